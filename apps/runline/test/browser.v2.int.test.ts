/**
 * The default example page (examples/web/index.html: React + useStream from @langchain/react 1.1.0, LangGraph
 * protocol v2) in real headless Chromium against a test Runline. The page is served from its own origin (another
 * port) and calls the API directly (`?api=`), so every request is cross-origin: this is CORS with no
 * RUNLINE_CORS_ORIGINS (loopback origins are allowed without API keys), as with a Vite page on :5173.
 *
 * Chromium and the built page come the same way as in browser.int.test.ts (installed/built when missing, never
 * skipped). Every wait is on something observable in the page or on the server.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page, Request } from "playwright-core";
import type { TestRunline } from "./harness";
import type { LaunchedBrowser } from "./browser/chromium";
import { BROWSER_RIG_START_MS, startBrowserRig, type BrowserRig } from "./browser/rig";
import type { ExampleServer } from "./browser/serve";
import { AI, ARTIFACTS, lastAiText, paintedAiTexts, recordAiTexts, send, threadIdOf, waitForAiMessagesIdle, waitForAiWords, withPage, words } from "./browser/page";

let t: TestRunline | undefined;
let srv: ExampleServer | undefined;
let browser: LaunchedBrowser | undefined;

let rig: BrowserRig | undefined;

beforeAll(async () => {
  rig = await startBrowserRig("browser-v2");
  ({ t, srv, browser } = rig);
}, BROWSER_RIG_START_MS);

afterAll(() => rig?.close(), 60_000);

/** API requests the page made, as `METHOD /path` plus the JSON body of commands. */
interface ApiCall {
  method: string;
  path: string;
  body: any;
}

/** A tab on the 1.x page whose API calls are recorded (the page talks to Runline directly, not through serve.ts). */
function withV2Page(name: string, body: (page: Page, calls: ApiCall[], log: string[]) => Promise<void>): Promise<void> {
  const calls: ApiCall[] = [];
  return withPage(
    browser!,
    name,
    async (page, log) => {
      page.on("request", (req: Request) => {
        if (!req.url().startsWith(t!.url)) return;
        let parsed: any = null;
        try {
          parsed = req.postDataJSON();
        } catch {
          /* not JSON */
        }
        calls.push({ method: req.method(), path: new URL(req.url()).pathname, body: parsed });
      });
      await body(page, calls, log);
    },
    () => calls.slice(-15).map((c) => `${c.method} ${c.path} ${c.body ? JSON.stringify(c.body).slice(0, 160) : ""}`),
  );
}

const pageUrl = (query: string) => `${srv!.url}/?api=${encodeURIComponent(t!.url)}&${query}`;
const errorsIn = (log: string[]) => log.filter((l) => l.startsWith("pageerror") || l.startsWith("console.error"));

async function serverMessages(threadId: string): Promise<any[]> {
  const { status, body } = await t!.api.get(`/threads/${threadId}/state`);
  expect(status).toBe(200);
  return body.values.messages;
}

/** Returns once the thread's newest run has ended (GET …/runs/{id}/join). */
async function joinNewestRun(threadId: string): Promise<void> {
  const { body: runs } = await t!.api.get(`/threads/${threadId}/runs?limit=1`);
  expect(runs).toHaveLength(1);
  const joined = await t!.api.get(`/threads/${threadId}/runs/${runs[0].run_id}/join`);
  expect(joined.status).toBe(200);
}

describe("the 1.x example page (@langchain/react 1.1.0, protocol v2) in headless Chromium, cross-origin", () => {
  it("send, Stop keeps the partial (marked, stored), reload after stop, continue sees it, fork from the partial", async () => {
    await withV2Page("v2-stop-continue-fork", async (page, calls, log) => {
      expect(new URL(srv!.url).origin).not.toBe(new URL(t!.url).origin);
      await page.goto(pageUrl("tokens=300&delay=20"));
      await send(page, "tell me a story");
      await waitForAiWords(page, 15, { streaming: true });
      const renderedBeforeStop = await lastAiText(page);
      await page.getByTestId("stop").click();

      const partialOnPage = page.locator(`${AI}[data-partial="1"]`);
      await partialOnPage.waitFor({ timeout: 20_000 });
      await waitForAiMessagesIdle(page, 1);
      const threadId = threadIdOf(page);
      expect(threadId).not.toBe("");
      // The 1.x hook starts runs through the protocol-v2 command endpoint, and stops them with the classic cancel.
      expect(calls.some((c) => c.method === "POST" && c.path === `/threads/${threadId}/commands` && c.body?.method === "run.start")).toBe(true);
      expect(calls.some((c) => c.method === "POST" && new RegExp(`^/threads/${threadId}/runs/[^/]+/cancel$`).test(c.path))).toBe(true);

      const messages = await serverMessages(threadId);
      expect(messages.map((m) => m.type)).toEqual(["human", "ai"]);
      const partial = messages[1];
      expect(partial.response_metadata.runline_partial).toMatchObject({ cancelled: true, action: "interrupt" });
      const saved = String(partial.content);
      expect(words(renderedBeforeStop).length).toBeGreaterThan(15);
      // Tokens already on the wire when Stop was clicked are saved too, so what the page had painted is a prefix.
      expect(saved.startsWith(renderedBeforeStop)).toBe(true);
      await page.waitForFunction(
        ({ selector, saved }) => document.querySelector(selector)?.textContent === saved,
        { selector: `${AI}[data-partial="1"] [data-testid=content]`, saved },
        { timeout: 15_000 },
      );
      await expect(partialOnPage.getByTestId("partial-badge").textContent()).resolves.toContain(
        `${partial.response_metadata.runline_partial.token_count} tokens kept`,
      );
      // A stopped run leaves the thread idle: nothing for a reload to reattach to.
      const { body: state } = await t!.api.get(`/threads/${threadId}/state`);
      expect(state.next).toEqual([]);

      // Reload after the stop: the partial, marked, and the page is not loading.
      await page.reload();
      await partialOnPage.waitFor({ timeout: 15_000 });
      await waitForAiMessagesIdle(page, 1);
      expect(await partialOnPage.locator("[data-testid=content]").textContent()).toBe(saved);
      await expect(page.getByTestId("stop").isDisabled()).resolves.toBe(true);

      // Continue: the model's preamble proves it was given the partial.
      await page.goto(pageUrl(`thread=${threadId}&tokens=40&delay=5`));
      await partialOnPage.waitFor({ timeout: 15_000 });
      await send(page, "please continue the story");
      // Waits for the server's run, not for the page's idle flag: on a page that hydrated the thread, the replay
      // of the thread's event stream includes the stopped run's terminal lifecycle, and @langchain/react 1.1.0
      // settles submit() (isLoading false) on it while the continuation still streams (see the lead's report).
      await page.locator(AI).nth(1).waitFor({ timeout: 15_000 });
      await joinNewestRun(threadId);
      const after = await serverMessages(threadId);
      expect(after.map((m) => m.type)).toEqual(["human", "ai", "human", "ai"]);
      expect(after[1].content).toBe(saved);
      const continuation = String(after[3].content);
      const partialWords = words(saved);
      expect(continuation).toContain("saw 3 messages");
      expect(continuation).toContain(`1 earlier assistant messages with ${partialWords.length} words; continuing after "${partialWords.slice(-5).join(" ")}"`);
      await page.waitForFunction((text) => {
        const all = document.querySelectorAll("[data-testid=message][data-type=ai] [data-testid=content]");
        return all[all.length - 1]?.textContent === text;
      }, continuation, { timeout: 15_000 });
      await waitForAiMessagesIdle(page, 2);
      await expect(page.locator(`${AI}[data-partial="1"]`).count()).resolves.toBe(1);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, "v2-continue-after-stop.png"), fullPage: true });

      // Fork from the partial, after a later turn: its fork button submits with forkFrom = the checkpoint before
      // it (from useMessageMetadata), so the story is written again from the first question.
      const forkButton = partialOnPage.getByTestId("fork");
      await forkButton.waitFor({ timeout: 15_000 });
      const forkFrom = await partialOnPage.getAttribute("data-parent-checkpoint");
      expect(forkFrom).toBeTruthy();
      await forkButton.click();
      await page.waitForFunction(
        () =>
          document.querySelector("[data-testid=status]")?.getAttribute("data-loading") === "0" &&
          document.querySelectorAll("[data-testid=message][data-type=ai]").length === 1 &&
          document.querySelectorAll("[data-testid=message][data-partial='1']").length === 0,
        null,
        { timeout: 30_000 },
      );
      const forkStart = calls.filter((c) => c.path === `/threads/${threadId}/commands` && c.body?.method === "run.start").pop();
      expect(forkStart?.body.params.config.configurable.checkpoint_id).toBe(forkFrom);
      const forked = await serverMessages(threadId);
      expect(forked.map((m) => m.type)).toEqual(["human", "ai"]);
      expect(forked[0].content).toBe(after[0].content);
      expect(forked[1].response_metadata?.runline_partial).toBeUndefined();
      await page.waitForFunction((text) => document.querySelector("[data-testid=message][data-type=ai] [data-testid=content]")?.textContent === text, String(forked[1].content), {
        timeout: 15_000,
      });
      expect(errorsIn(log)).toEqual([]);
    });
  }, 120_000);

  it("a reload mid-stream reattaches to the run: no token lost or repeated", async () => {
    await withV2Page("v2-reload-mid-stream", async (page, calls, log) => {
      await recordAiTexts(page);
      await page.goto(pageUrl("tokens=300&delay=20"));
      await send(page, "tell me a story");
      await waitForAiWords(page, 15, { streaming: true });
      const threadId = threadIdOf(page);
      const wordsBeforeReload = words(await lastAiText(page)).length;
      const callsBeforeReload = calls.length;

      // The run goes on without the page; the reloaded page hydrates the thread (GET /state: active), opens the
      // thread's event stream, gets the replay and follows it live.
      await page.reload();
      await waitForAiWords(page, wordsBeforeReload + 10, { streaming: true });
      await waitForAiMessagesIdle(page, 1, 40_000);

      const messages = await serverMessages(threadId);
      const final = messages[messages.length - 1];
      expect(final.type).toBe("ai");
      expect(final.response_metadata?.runline_partial).toBeUndefined();
      const serverText = String(final.content);
      expect(words(serverText)).toHaveLength(300);
      await page.waitForFunction((text) => {
        const all = document.querySelectorAll("[data-testid=message][data-type=ai] [data-testid=content]");
        return all[all.length - 1]?.textContent === text;
      }, serverText, { timeout: 15_000 });
      // Every text the page painted, before and after the reload, is a prefix of the final one: a lost or a
      // repeated token would break that. And it kept growing after the reload.
      const painted = (await paintedAiTexts(page)).filter((s) => s.length > 0);
      expect(painted.filter((s) => !serverText.startsWith(s))).toEqual([]);
      expect(painted.length).toBeGreaterThan(50);
      const after = calls.slice(callsBeforeReload).map((c) => `${c.method} ${c.path}`);
      expect(after).toContain(`POST /threads/${threadId}/stream/events`);
      // Only the one run: a reload does not start another.
      expect(after).not.toContain(`POST /threads/${threadId}/commands`);
      expect(errorsIn(log)).toEqual([]);
    });
  }, 120_000);
});
