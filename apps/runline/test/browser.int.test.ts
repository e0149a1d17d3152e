/**
 * The legacy example page (examples/web/legacy.html: React + useStream from @langchain/langgraph-sdk/react) in real headless Chromium,
 * against a test Runline. The page is served on the API's own origin by a small proxy (browser/serve.ts), as it
 * would be behind Vite's dev proxy or a reverse proxy: Runline sends no CORS headers.
 *
 * Needs Chromium (Debian's `chromium`, installed here by apt-get when missing and we are root) and the built page
 * (built with Vite when dist/ is missing or older than its sources). Neither is skipped when missing: the file fails
 * with the fix. Every wait is on something observable in the page or on the server, never a fixed sleep.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import type { TestRunline } from "./harness";
import { AI, AI_CONTENT, ARTIFACTS, lastAiText, paintedAiTexts, recordAiTexts, send, threadIdOf, waitForAiMessagesIdle, waitForAiWords, withPage as withTab, words } from "./browser/page";
import type { LaunchedBrowser } from "./browser/chromium";
import { BROWSER_RIG_START_MS, startBrowserRig, type BrowserRig } from "./browser/rig";
import type { ExampleServer } from "./browser/serve";

let t: TestRunline | undefined;
let srv: ExampleServer | undefined;
let browser: LaunchedBrowser | undefined;

let rig: BrowserRig | undefined;

beforeAll(async () => {
  rig = await startBrowserRig("browser");
  ({ t, srv, browser } = rig);
}, BROWSER_RIG_START_MS);

afterAll(() => rig?.close(), 60_000);

const LEGACY = "/legacy.html";

function withPage(name: string, body: (page: Page, log: string[]) => Promise<void>): Promise<void> {
  const tail = () => srv!.proxied.slice(-12).map((r) => `${r.method} ${r.path}${r.lastEventId ? ` (Last-Event-ID ${r.lastEventId})` : ""}`);
  return withTab(browser!, name, body, tail);
}

describe("the legacy example page (useStream from @langchain/langgraph-sdk/react) in headless Chromium against Runline", () => {
  it("Stop keeps the partial: the page shows exactly what the server saved, marked; 'please continue' continues from it", async () => {
    await withPage("stop-continue", async (page, log) => {
      // A slow story (300 words, 20 ms apart), so there is time to stop it midway.
      await page.goto(`${srv!.url}${LEGACY}?tokens=300&delay=20`);
      await send(page, "tell me a story");
      await waitForAiWords(page, 15, { streaming: true });
      const renderedBeforeStop = await lastAiText(page);
      await page.getByTestId("stop").click();

      // stop() closes the stream (the run was created with on_disconnect: "cancel"), and the hook re-reads the
      // thread: the page must then show the server's partial, marked, and not just the question.
      const partialOnPage = page.locator(`${AI}[data-partial="1"]`);
      await partialOnPage.waitFor({ timeout: 20_000 });
      await waitForAiMessagesIdle(page, 1);
      const threadId = threadIdOf(page);
      expect(threadId).toMatch(/^[0-9a-f-]{36}$/);

      const { body: state } = await t!.api.get(`/threads/${threadId}/state`);
      expect(state.values.messages.map((m: any) => m.type)).toEqual(["human", "ai"]);
      const partial = state.values.messages[1];
      expect(partial.response_metadata.runline_partial).toMatchObject({ cancelled: true, action: "interrupt" });
      const saved = String(partial.content);
      // What the page had painted when Stop was clicked is a prefix of the saved partial, not always all of it:
      // the model keeps writing until the server sees the connection close (a few ms, plus the click itself),
      // and tokens already on the wire are saved too, since Runline keeps every token it streamed. Nothing the
      // page showed is missing from, or different in, the saved text.
      expect(words(renderedBeforeStop).length).toBeGreaterThan(15);
      expect(saved.startsWith(renderedBeforeStop)).toBe(true);
      // After the stop the page shows the saved partial itself, exactly, with its marker.
      expect(await partialOnPage.locator("[data-testid=content]").textContent()).toBe(saved);
      await expect(partialOnPage.getByTestId("partial-badge").textContent()).resolves.toContain(
        `${partial.response_metadata.runline_partial.token_count} tokens kept`,
      );

      // ?thread= is in the address: a reload comes back to the thread and the partial (with a faster pace next).
      await page.goto(`${srv!.url}${LEGACY}?thread=${threadId}&tokens=40&delay=5`);
      await partialOnPage.waitFor({ timeout: 15_000 });
      expect(await partialOnPage.locator("[data-testid=content]").textContent()).toBe(saved);

      await send(page, "please continue the story");
      await waitForAiMessagesIdle(page, 2);
      const { body: after } = await t!.api.get(`/threads/${threadId}/state`);
      expect(after.values.messages.map((m: any) => m.type)).toEqual(["human", "ai", "human", "ai"]);
      expect(after.values.messages[1].content).toBe(saved);
      const continuation = String(after.values.messages[3].content);
      // The story model's preamble says what it was given: 3 messages, and the partial's words, up to its last.
      const partialWords = words(saved);
      expect(continuation).toContain("saw 3 messages");
      expect(continuation).toContain(
        `1 earlier assistant messages with ${partialWords.length} words; continuing after "${partialWords.slice(-5).join(" ")}"`,
      );
      expect(after.values.messages[3].response_metadata?.runline_partial).toBeUndefined();
      // The page shows the continuation, and still shows the partial marked above it.
      expect(await lastAiText(page)).toBe(continuation);
      await expect(page.locator(`${AI}[data-partial="1"]`).count()).resolves.toBe(1);
      expect(log.filter((l) => l.startsWith("pageerror") || l.startsWith("console.error"))).toEqual([]);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, "continue-after-stop.png"), fullPage: true });

      // The partial is also a branch point: "retry" on it runs the story again from the question (a fork, sent
      // as `checkpoint`), and the branch switcher built from the history moves between the two answers.
      await page.getByTestId("retry").first().click();
      const position = page.locator(`${AI} [data-testid=branch-position]`);
      await page.waitForFunction(
        () =>
          document.querySelector("[data-testid=status]")?.getAttribute("data-loading") === "0" &&
          document.querySelector("[data-testid=branch-position]")?.textContent === "branch 2 / 2",
        null,
        { timeout: 30_000 },
      );
      const { body: forked } = await t!.api.get(`/threads/${threadId}/state`);
      expect(forked.values.messages.map((m: any) => m.type)).toEqual(["human", "ai"]);
      expect(forked.values.messages[1].response_metadata?.runline_partial).toBeUndefined();
      await expect(page.locator(AI).count()).resolves.toBe(1);
      expect(await lastAiText(page)).toBe(forked.values.messages[1].content);

      await page.getByRole("button", { name: "previous branch" }).click();
      await expect(position.textContent()).resolves.toBe("branch 1 / 2");
      await waitForAiMessagesIdle(page, 2);
      expect(await page.locator(`${AI}[data-partial="1"] [data-testid=content]`).textContent()).toBe(saved);
      expect(await lastAiText(page)).toBe(continuation);
      expect(log.filter((l) => l.startsWith("pageerror") || l.startsWith("console.error"))).toEqual([]);
    });
  }, 90_000);

  it("?reconnect=1: Stop cancels through POST …/cancel (the stream is resumable) and the page shows the saved partial", async () => {
    await withPage("reconnect-stop", async (page, log) => {
      await page.goto(`${srv!.url}${LEGACY}?reconnect=1&tokens=300&delay=20`);
      await send(page, "tell me a story");
      await waitForAiWords(page, 10, { streaming: true });
      const renderedBeforeStop = await lastAiText(page);
      await page.getByTestId("stop").click();
      const partialOnPage = page.locator(`${AI}[data-partial="1"]`);
      await partialOnPage.waitFor({ timeout: 20_000 });

      const threadId = threadIdOf(page);
      const { body: state } = await t!.api.get(`/threads/${threadId}/state`);
      const partial = state.values.messages[state.values.messages.length - 1];
      expect(partial.response_metadata.runline_partial).toMatchObject({ cancelled: true, action: "interrupt" });
      expect(String(partial.content).startsWith(renderedBeforeStop)).toBe(true);
      expect(await partialOnPage.locator("[data-testid=content]").textContent()).toBe(partial.content);
      // A resumable run survives a closed stream (on_disconnect: "continue"), so here stop() cancels explicitly.
      const runId = partial.response_metadata.runline_partial.run_id;
      expect(srv!.proxied.map((r) => `${r.method} ${r.path.split("?")[0]}`)).toContain(`POST /threads/${threadId}/runs/${runId}/cancel`);
      expect(log.filter((l) => l.startsWith("pageerror") || l.startsWith("console.error"))).toEqual([]);
    });
  }, 60_000);

  it("?reconnect=1: a reload mid-run rejoins the run and a dropped stream resumes from Last-Event-ID; nothing lost or repeated", async () => {
    await withPage("reconnect", async (page, log) => {
      await recordAiTexts(page);
      await page.goto(`${srv!.url}${LEGACY}?reconnect=1&tokens=300&delay=20`);
      await send(page, "tell me a story");
      await waitForAiWords(page, 15, { streaming: true });
      const threadId = threadIdOf(page);
      const wordsBeforeReload = words(await lastAiText(page)).length;
      const requestsBeforeReload = srv!.proxied.length;

      // The run goes on without the page (resumable runs are created with on_disconnect: "continue"); after the
      // reload, useStream finds the run id in sessionStorage and rejoins its stream.
      await page.reload();
      await waitForAiWords(page, wordsBeforeReload + 10, { streaming: true });
      // Now drop the rejoined stream, as a flaky network would: the SDK reconnects through the Location header
      // with the last event id it saw.
      expect(srv!.cutEventStreams()).toBeGreaterThanOrEqual(1);
      await waitForAiMessagesIdle(page, 1, 40_000);

      const { body: state } = await t!.api.get(`/threads/${threadId}/state`);
      const final = state.values.messages[state.values.messages.length - 1];
      expect(final.type).toBe("ai");
      expect(final.response_metadata?.runline_partial).toBeUndefined();
      const serverText = String(final.content);
      expect(words(serverText)).toHaveLength(300);
      // The final message on the page is the server's, exactly.
      expect(await lastAiText(page)).toBe(serverText);
      // And so was every step on the way, after the reload and across the drop: each text the page painted is a
      // prefix of the final one (a lost or repeated token would break that), and it grew while streaming.
      const painted = await paintedAiTexts(page);
      const nonEmpty = painted.filter((s) => s.length > 0);
      expect(nonEmpty.filter((s) => !serverText.startsWith(s))).toEqual([]);
      expect(nonEmpty.length).toBeGreaterThan(50);

      // How it resumed: a join from the start on reload (Last-Event-ID -1), then, after the drop, from the last
      // event id the page had seen (a journal id, never -1 again).
      const joins = srv!.proxied.slice(requestsBeforeReload).filter((r) => r.method === "GET" && /\/runs\/[^/]+\/stream/.test(r.path));
      expect(joins[0]?.lastEventId).toBe("-1");
      expect(joins.length).toBeGreaterThanOrEqual(2);
      for (const join of joins.slice(1)) expect(join.lastEventId).toMatch(/^\d+-\d+$/);
      expect(log.filter((l) => l.startsWith("pageerror"))).toEqual([]);
    });
  }, 90_000);
});
