import { loadConfig } from "@runline/config";
import { createTestNamespace, collectSse, namespaceEnv, waitFor, type TestNamespace } from "@runline/testing";
import { createLogger } from "../src/logger";
import { startRunline, type Runline } from "../src/runtime";
import { cancel, startLiveRun } from "./cancel-helpers";
import { apiClient, userInput, type TestRunline } from "./harness";

const API_KEY = "tenant-key-never-logged-0123";
const SECRET_INPUT = "the-user-input-must-never-be-logged";

/** Every log line this Runline wrote, parsed. */
const lines: Array<Record<string, any>> = [];
let ns: TestNamespace;
let runline: Runline;
let t: TestRunline;

beforeAll(async () => {
  ns = await createTestNamespace("ops-logs");
  const config = loadConfig({
    ...namespaceEnv(ns),
    HOST: "127.0.0.1",
    PORT: "0",
    RUNLINE_API_KEYS: `${API_KEY}:acme`,
    RUNLINE_STORY_TOKENS: "8",
    RUNLINE_STORY_DELAY_MS: "2",
  });
  // The same pino logger production uses, at info, writing into memory instead of stderr.
  const logger = createLogger("runline", "info", { destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  runline = await startRunline(config, { logger });
  const api = apiClient(runline.url!, API_KEY);
  t = { ns, runline, url: runline.url!, api, close: async () => undefined };
});
afterAll(async () => {
  await runline?.close();
  await ns?.cleanup();
});

const find = (msg: string, match: Record<string, unknown> = {}) =>
  lines.filter((l) => l.msg === msg && Object.entries(match).every(([k, v]) => l[k] === v));

describe("logs", () => {
  it("are JSON lines: one per request (request id, method, path, status, duration, tenant) and per run (started, finished)", async () => {
    const threadId = (await t.api.post("/threads", {})).body.thread_id;
    const { frames } = await collectSse(`${t.url}/threads/${threadId}/runs/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": API_KEY, "x-request-id": "req-ops-logs-1" },
      body: JSON.stringify({ assistant_id: "story", input: userInput(SECRET_INPUT), stream_mode: ["messages-tuple"] }),
    });
    const runId = frames[0].data.run_id;
    const tokens = frames.filter((f) => f.event === "messages").length;
    await waitFor(() => find("Run finished", { runId }).length === 1, { what: "the run's last log line" });
    await waitFor(() => find("Request finished", { requestId: "req-ops-logs-1" }).length === 1, { what: "the request's log line" });

    const request = find("Request finished", { requestId: "req-ops-logs-1" })[0];
    expect(request).toMatchObject({
      level: "info",
      name: "runline",
      component: "api",
      method: "POST",
      path: `/threads/${threadId}/runs/stream`,
      route: "/threads/:threadId/runs/stream",
      status: 200,
      tenant: "acme",
      durationMs: expect.any(Number),
    });
    expect(request.time).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    const started = find("Run started", { runId })[0];
    expect(started).toMatchObject({ level: "info", component: "worker", threadId, tenant: "acme", attempt: 1, takeover: false, queueMs: expect.any(Number) });
    expect(find("Run finished", { runId })[0]).toMatchObject({ status: "success", tokens, durationMs: expect.any(Number), ttftMs: expect.any(Number), tenant: "acme" });
  });

  it("a cancel logs 'Run cancelled' with the action and the partial's token count", async () => {
    const threadId = (await t.api.post("/threads", {})).body.thread_id;
    const live = await startLiveRun(t, threadId, SECRET_INPUT);
    await live.readTokens(4);
    const res = await cancel(t, live, "wait=1&action=rollback");
    await live.readToEnd();
    await waitFor(() => find("Run finished", { runId: live.runId }).length === 1, { what: "the run's last log line" });
    expect(find("Run cancelled", { runId: live.runId })[0]).toMatchObject({
      level: "info",
      status: "interrupted",
      action: "rollback",
      reason: "cancel",
      partialTokens: res.body.partial.token_count,
      attempt: 1,
      tenant: "acme",
    });
    expect(find("Run finished", { runId: live.runId })[0]).toMatchObject({ status: "interrupted", tokens: live.tokens().length });
  });

  it("a client error is a warn line with its code; a bad key is logged without the key", async () => {
    await fetch(`${t.url}/threads/nope`, { headers: { "x-api-key": API_KEY, "x-request-id": "req-ops-logs-404" } });
    await fetch(`${t.url}/threads`, { method: "POST", headers: { authorization: "Bearer wrong-key-never-logged", "x-request-id": "req-ops-logs-401" } });
    await waitFor(() => find("Request finished", { requestId: "req-ops-logs-401" }).length === 1, { what: "the 401 line" });
    expect(find("Request finished", { requestId: "req-ops-logs-404" })[0]).toMatchObject({ level: "warn", status: 404, code: "THREAD_NOT_FOUND", tenant: "acme" });
    expect(find("Request finished", { requestId: "req-ops-logs-401" })[0]).toMatchObject({ level: "warn", status: 401, code: "UNAUTHORIZED" });
  });

  it("never contain message contents, inputs, outputs or keys", () => {
    const all = lines.map((l) => JSON.stringify(l)).join("\n");
    expect(lines.length).toBeGreaterThan(5);
    expect(all).not.toContain(SECRET_INPUT);
    expect(all).not.toContain(API_KEY);
    expect(all).not.toContain("wrong-key-never-logged");
    // The story model's words (its preamble starts every answer) never appear either.
    expect(all).not.toContain("[story:");
  });

  it("redact secrets and payloads that a caller puts in fields by mistake", () => {
    const captured: string[] = [];
    const logger = createLogger("redaction", "info", { destination: { write: (line: string) => void captured.push(line) } });
    logger.child({ requestId: "r1" }).info("Oops", {
      authorization: "Bearer abc",
      headers: { "x-api-key": "k", "x-admin-key": "a", cookie: "c" },
      apiKey: "sk-1",
      input: { messages: [{ content: "hello" }] },
      run: { output: "story", messages: ["m"], content: "c" },
      ok: "kept",
      long: "x".repeat(5000),
    });
    const line = JSON.parse(captured[0]);
    expect(line).toMatchObject({
      msg: "Oops",
      requestId: "r1",
      authorization: "[redacted]",
      headers: { "x-api-key": "[redacted]", "x-admin-key": "[redacted]", cookie: "[redacted]" },
      apiKey: "[redacted]",
      input: "[redacted]",
      run: { output: "[redacted]", messages: "[redacted]", content: "[redacted]" },
      ok: "kept",
    });
    expect(line.long.length).toBeLessThan(2100);
  });
});
