import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { REPO_ROOT } from "./build";
import type { LaunchedBrowser } from "./chromium";

// What both example pages render (examples/web: index.html on @langchain/react 1.x, legacy.html on the legacy hook).
export const ARTIFACTS = path.join(REPO_ROOT, "test-artifacts", "browser");
export const AI = "[data-testid=message][data-type=ai]";
export const AI_CONTENT = `${AI} [data-testid=content]`;

export const words = (text: string) => text.split(/\s+/).filter((w) => w.length > 0);

/**
 * A fresh tab (its own sessionStorage). On failure: a screenshot, the page's console and `describe()` (the last
 * API requests, say) next to the error.
 */
export async function withPage(
  browser: LaunchedBrowser,
  name: string,
  body: (page: Page, log: string[]) => Promise<void>,
  describe: () => string[] = () => [],
): Promise<void> {
  const page = await browser.context.newPage();
  const log: string[] = [];
  page.on("console", (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => log.push(`pageerror: ${e.message}`));
  try {
    await body(page, log);
  } catch (err) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = path.join(ARTIFACTS, `${name}-failure.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
    if (err instanceof Error) {
      const extra = `\n\nscreenshot: ${shot}\npage log:\n  ${log.join("\n  ") || "(empty)"}\nlast API requests:\n  ${describe().join("\n  ")}`;
      err.message += extra;
      // Jest prints the stack, which was rendered with the message as it was thrown.
      if (err.stack) err.stack = err.stack.replace(/\n\s+at [\s\S]*$/, (frames) => `${extra}${frames}`);
    }
    throw err;
  } finally {
    await page.close().catch(() => undefined);
  }
}

export async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId("input").fill(text);
  await page.getByTestId("send").click();
}

/** Resolves once the last AI message on the page has more than `n` words (while it streams, with `streaming`). */
export async function waitForAiWords(page: Page, n: number, { streaming = false, timeout = 20_000 } = {}): Promise<void> {
  await page.waitForFunction(
    ({ selector, n, streaming }) => {
      const all = document.querySelectorAll(selector);
      const last = all[all.length - 1];
      const status = document.querySelector("[data-testid=status]") as HTMLElement | null;
      if (streaming && status?.dataset.loading !== "1") return false;
      return !!last && (last.textContent ?? "").split(/\s+/).filter(Boolean).length > n;
    },
    { selector: AI_CONTENT, n, streaming },
    { timeout },
  );
}

/** Resolves once the page shows `count` AI messages and no run is streaming (nor the thread loading) any more. */
export async function waitForAiMessagesIdle(page: Page, count: number, timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    ({ selector, count }) => {
      const status = document.querySelector("[data-testid=status]") as HTMLElement | null;
      return document.querySelectorAll(selector).length === count && status?.dataset.loading === "0" && status?.dataset.threadLoading !== "1";
    },
    { selector: AI, count },
    { timeout },
  );
}

export const lastAiText = async (page: Page) => (await page.locator(AI_CONTENT).last().textContent()) ?? "";
export const threadIdOf = (page: Page) => new URL(page.url()).searchParams.get("thread") ?? "";

/** Records every distinct text of the last AI message the page paints, from the first paint of each load on. */
export async function recordAiTexts(page: Page): Promise<void> {
  await page.addInitScript(`
    window.__aiTexts = [];
    const record = () => {
      const all = document.querySelectorAll(${JSON.stringify(AI_CONTENT)});
      const text = all.length ? all[all.length - 1].textContent : "";
      if (window.__aiTexts[window.__aiTexts.length - 1] !== text) window.__aiTexts.push(text);
    };
    new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true });
  `);
}

export const paintedAiTexts = (page: Page): Promise<string[]> => page.evaluate("window.__aiTexts");
