/**
 * The run dashboard (`/admin/dashboard`) in real headless Chromium against a test Runline with an admin key: a slow
 * run shows up in the active list with its token count growing and its tokens streaming, Stop (interrupt) ends it,
 * and the page shows the saved partial (token count, checkpoint id) that the API reports too. The browser logs in
 * with HTTP Basic auth (any user name, the admin key as password), as a person does at the browser's prompt.
 *
 * Needs Chromium (see browser/chromium.ts: installed with apt-get when missing and we are root). Every wait is on
 * something observable on the page or the server, never a fixed sleep.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { REPO_ROOT } from "./browser/build";
import { ensureChromium, launchChromium, type LaunchedBrowser } from "./browser/chromium";
import { startTestRunline, userInput, type TestRunline } from "./harness";

const ADMIN_KEY = "ops-dashboard-admin-key-0123456789";
const ARTIFACTS = path.join(REPO_ROOT, "test-artifacts");

let t: TestRunline | undefined;
let browser: LaunchedBrowser | undefined;

beforeAll(async () => {
  const executable = ensureChromium({ timeoutMs: 8 * 60_000 });
  t = await startTestRunline("ops-dashboard", { RUNLINE_ADMIN_KEY: ADMIN_KEY });
  browser = await launchChromium(executable);
}, 10 * 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
}, 60_000);

/** A fresh tab; on failure a screenshot and the page's console go next to the error. */
async function withPage(name: string, body: (page: Page) => Promise<void>): Promise<void> {
  const page = await browser!.context.newPage();
  const log: string[] = [];
  page.on("console", (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => log.push(`pageerror: ${e.message}`));
  try {
    await body(page);
  } catch (err) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = path.join(ARTIFACTS, `${name}-failure.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
    if (err instanceof Error) err.message += `\n\nscreenshot: ${shot}\npage log:\n  ${log.join("\n  ") || "(empty)"}`;
    throw err;
  } finally {
    await page.close().catch(() => undefined);
  }
}

const activeRow = (runId: string) => `[data-testid=active-run][data-run-id="${runId}"]`;

async function tokensOf(page: Page, runId: string): Promise<number> {
  return Number(await page.locator(activeRow(runId)).getAttribute("data-tokens"));
}

describe("run dashboard", () => {
  it("refuses access without the admin key, and with a wrong one", async () => {
    await withPage("ops-dashboard-refused", async (page) => {
      // The page itself: the server's Basic challenge reaches Playwright's auth handler, which has no credentials
      // yet, so Chromium fails the navigation with an auth error (or shows the 401). The page is not served.
      const outcome = await page.goto(`${t!.url}/admin/dashboard`).then(
        (res) => `status ${res?.status()}`,
        (err: Error) => err.message,
      );
      expect(outcome).toMatch(/status 401|ERR_INVALID_AUTH_CREDENTIALS/);
    });
    // The exact answers, from outside the browser: no key 401 (with the Basic challenge), a wrong one 403.
    const none = await fetch(`${t!.url}/admin/dashboard`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect((await fetch(`${t!.url}/admin/api/overview`)).status).toBe(401);
    expect((await fetch(`${t!.url}/admin/dashboard`, { headers: { "x-admin-key": "not-the-admin-key-at-all" } })).status).toBe(403);
    const cancel = await fetch(`${t!.url}/admin/api/runs/00000000-0000-0000-0000-000000000000/cancel?action=interrupt`, { method: "POST" });
    expect(cancel.status).toBe(401);
    // With the key but without the page's header (a cross-site form cannot send it): refused too.
    const forged = await fetch(`${t!.url}/admin/api/runs/00000000-0000-0000-0000-000000000000/cancel?action=interrupt`, {
      method: "POST",
      headers: { "x-admin-key": ADMIN_KEY },
    });
    expect(forged.status).toBe(403);
  });

  it("shows a streaming run live, stops it with interrupt, and shows the saved partial", async () => {
    await browser!.context.setHTTPCredentials({ username: "admin", password: ADMIN_KEY });
    await withPage("ops-dashboard", async (page) => {
      const res = await page.goto(`${t!.url}/admin/dashboard`);
      expect(res?.status()).toBe(200);
      // The first poll answered: the queue counts are numbers.
      await page.waitForFunction(() => /^\d+$/.test(document.querySelector("[data-testid=queue-waiting]")?.textContent ?? ""));

      const threadId = (await t!.api.post("/threads", {})).body.thread_id as string;
      const created = await t!.api.post(`/threads/${threadId}/runs`, {
        assistant_id: "story",
        input: userInput("Tell me a long story for the dashboard."),
        config: { configurable: { story_tokens: 300, story_token_delay_ms: 20 } },
      });
      expect(created.status).toBe(200);
      const runId = created.body.run_id as string;

      // It shows up as running, and its token count grows from one poll to the next.
      await page.waitForSelector(`${activeRow(runId)}[data-status=running]`, { timeout: 15_000 });
      await page.waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute("data-tokens")) > 5, activeRow(runId));
      const before = await tokensOf(page, runId);
      await page.waitForFunction(
        ({ sel, before }) => Number(document.querySelector(sel)?.getAttribute("data-tokens")) > before,
        { sel: activeRow(runId), before },
      );
      const row = page.locator(activeRow(runId));
      expect(await row.textContent()).toContain("story");

      // Its tokens stream into the page.
      await row.getByTestId("watch").click();
      await page.waitForFunction(() => Number(document.querySelector("[data-testid=stream-count]")?.textContent) > 10);
      expect((await page.getByTestId("stream-text").textContent())!.length).toBeGreaterThan(10);
      expect(await page.getByTestId("stream-run").getAttribute("data-run-id")).toBe(runId);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, "ops-dashboard-running.png"), fullPage: true });

      // Stop, keeping the partial (interrupt).
      await row.getByTestId("stop-action").selectOption("interrupt");
      await row.getByTestId("stop").click();
      const result = page.getByTestId("stop-result");
      await page.waitForSelector(`[data-testid=stop-result][data-run-id="${runId}"][data-status=interrupted]`, { timeout: 15_000 });
      const pageTokens = Number(await result.getAttribute("data-tokens"));
      const pageCheckpoint = (await result.getAttribute("data-checkpoint"))!;
      expect(await result.getAttribute("data-outcome")).toBe("cancelled");
      expect(pageTokens).toBeGreaterThan(10);
      expect(pageTokens).toBeLessThan(300);
      expect(pageCheckpoint).toMatch(/\S+/);
      const shown = (await result.textContent())!;
      expect(shown).toContain(`${pageTokens} tokens saved`);
      expect(shown).toContain(pageCheckpoint);

      // The same numbers from the API.
      const server = await t!.api.get(`/threads/${threadId}/runs/${runId}`);
      expect(server.body.status).toBe("interrupted");
      expect(server.body.partial.action).toBe("interrupt");
      expect(server.body.partial.token_count).toBe(pageTokens);
      expect(server.body.partial.checkpoint_id).toBe(pageCheckpoint);

      // The watched stream saw the run end; the run leaves the active list.
      await page.waitForSelector("[data-testid=stream-run][data-state=interrupted]");
      await page.waitForSelector(activeRow(runId), { state: "detached" });

      // Recent runs, filtered to interrupted: the run with its partial size and checkpoint.
      await page.getByTestId("recent-filter").selectOption("interrupted");
      const recent = `[data-testid=recent-run][data-run-id="${runId}"]`;
      await page.waitForSelector(`${recent}[data-status=interrupted][data-tokens="${pageTokens}"][data-checkpoint="${pageCheckpoint}"]`);
      const statuses = await page.locator("[data-testid=recent-run]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-status")));
      expect(new Set(statuses)).toEqual(new Set(["interrupted"]));

      // The same lists from the JSON endpoint the page polls.
      const overview = await (await fetch(`${t!.url}/admin/api/overview?status=interrupted`, { headers: { "x-admin-key": ADMIN_KEY } })).json();
      expect(overview.queue).toEqual({ waiting: expect.any(Number), active: expect.any(Number), delayed: expect.any(Number) });
      expect(overview.active.map((r: { run_id: string }) => r.run_id)).not.toContain(runId);
      const listed = overview.recent.find((r: { run_id: string }) => r.run_id === runId);
      expect(listed).toMatchObject({ status: "interrupted", tokens: pageTokens, thread_id: threadId, graph_id: "story" });

      await page.screenshot({ path: path.join(ARTIFACTS, "ops-dashboard.png"), fullPage: true });
    });
  });
});
