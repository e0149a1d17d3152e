import { loadConfig } from "@runline/config";
import { collectSse, createTestNamespace, namespaceEnv, waitFor, type TestNamespace } from "@runline/testing";
import { createLogger } from "../src/logger";
import { startRunline, type Runline } from "../src/runtime";
import { apiClient, type ApiClient } from "./harness";

// Every failure below carries these; none may reach a log line or the console.
const API_KEY = "tenant-key-must-never-be-logged-42";
const SECRET = "SECRET-CONTENT-must-never-be-logged";

const lines: string[] = [];
const consoleOutput: string[] = [];
let ns: TestNamespace;
let runline: Runline;
let api: ApiClient;
let consoleSpies: jest.SpyInstance[] = [];

beforeAll(async () => {
  ns = await createTestNamespace("logs-failures");
  const config = loadConfig({
    ...namespaceEnv(ns),
    HOST: "127.0.0.1",
    PORT: "0",
    RUNLINE_API_KEYS: `${API_KEY}:acme`,
    RUNLINE_STORY_TOKENS: "400",
    RUNLINE_STORY_DELAY_MS: "0",
    // Small, so a run hits the output limit and another the time limit: both error paths log.
    RUNLINE_RUN_MAX_OUTPUT_BYTES: "30000",
  });
  // Debug: the most a deployment can log.
  const logger = createLogger("runline", "debug", { destination: { write: (line: string) => void lines.push(line) } });
  // LangGraph's `debug` mode and stray library logging go to the console: catch that too.
  consoleSpies = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
    jest.spyOn(console, m).mockImplementation((...args: unknown[]) => void consoleOutput.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a) ?? String(a))).join(" "))),
  );
  runline = await startRunline(config, { logger });
  api = apiClient(runline.url!, API_KEY);
});
afterAll(async () => {
  for (const spy of consoleSpies) spy.mockRestore();
  await runline?.close();
  await ns?.cleanup();
});

const secretMessage = (role = "user") => ({ messages: [{ role, content: `${SECRET} in a message` }] });

async function newThread(): Promise<string> {
  return (await api.post("/threads", {})).body.thread_id;
}

/** Starts a run and reads its stream to the end; returns the run's final record. */
async function runToEnd(threadId: string, body: Record<string, unknown>) {
  const res = await api.post(`/threads/${threadId}/runs`, { assistant_id: "story", ...body });
  if (res.status !== 200) return { status: res.status, run: null };
  await collectSse(`${runline.url}/threads/${threadId}/runs/${res.body.run_id}/stream`, { headers: api.headers });
  const run = await waitFor(async () => {
    const r = (await api.get(`/threads/${threadId}/runs/${res.body.run_id}`)).body;
    return r.finished_at ? r : false;
  });
  return { status: res.status, run };
}

describe("logs keep their promise: no message content and no key, on every failure path", () => {
  it("greps every log line and console write after requests and runs that fail in each way the fuzz found", async () => {
    const threadId = await newThread();
    // A thread with a graph and a checkpoint, so state updates reach LangGraph.
    expect((await runToEnd(threadId, { input: { messages: [] }, config: { configurable: { story_tokens: 3 } } })).run.status).toBe("success");
    const outcomes: Record<string, unknown> = {};
    // Refused at the boundary: LangGraph's debug mode, pregel internals, a NUL, bad JSON, the wrong media type.
    outcomes.debug = (await api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: secretMessage(), config: { debug: true } })).status;
    outcomes.pregel = (await api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: secretMessage(), config: { configurable: { __pregel_send: SECRET } } })).status;
    outcomes.nul = (await api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: { messages: [{ role: "user", content: `${SECRET}\u0000` }] } })).status;
    outcomes.badJson = (await api.request("POST", `/threads/${threadId}/runs`, `{"input": "${SECRET}`, { "content-type": "application/json" })).status;
    outcomes.textPlain = (await api.request("POST", `/threads/${threadId}/runs`, JSON.stringify({ input: SECRET }), { "content-type": "text/plain" })).status;
    // LangGraph/LangChain refusals, whose messages quote the payload ("Received: {content…}").
    outcomes.stateUnknownRole = (await api.post(`/threads/${threadId}/state`, { values: secretMessage("wizard") })).status;
    outcomes.stateNotObject = (await api.post(`/threads/${threadId}/state`, { values: 123, as_node: SECRET })).status;
    outcomes.stateUnknownNode = (await api.post(`/threads/${threadId}/state`, { values: secretMessage(), as_node: `node-${SECRET}` })).status;
    // Runs that fail while running: a message LangChain cannot read, the output limit, the time limit, a cancel.
    const unreadable = await runToEnd(await newThread(), { input: secretMessage("wizard") });
    outcomes.runUnreadable = unreadable.run?.status ?? unreadable.status;
    outcomes.runOutputLimit = (await runToEnd(await newThread(), { input: secretMessage() })).run?.error?.error;
    const cancelled = (await api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: secretMessage(), config: { configurable: { story_token_delay_ms: 20 } } })).body;
    outcomes.cancel = (await api.post(`/threads/${threadId}/runs/${cancelled.run_id}/cancel?wait=1`)).body.status;
    // An unknown key and another tenant's id.
    outcomes.badKey = (await apiClient(runline.url!, `${API_KEY}-wrong`).post("/threads", {})).status;

    expect(outcomes).toEqual({
      debug: 422,
      pregel: 422,
      nul: 422,
      badJson: 400,
      textPlain: 415,
      stateUnknownRole: 422,
      stateNotObject: 422,
      stateUnknownNode: 422,
      runUnreadable: "error",
      runOutputLimit: "RunOutputLimitError",
      cancel: "interrupted",
      badKey: 401,
    });
    // The failures were logged (the test reads real lines), and not one of them quotes the content or the key.
    await waitFor(() => lines.some((l) => l.includes('"Run finished"') && l.includes("RunOutputLimitError")), { what: "the output-limit run's log line" });
    expect(lines.filter((l) => /"level":"(warn|error)"/.test(l)).length).toBeGreaterThan(5);
    const leaks = [...lines, ...consoleOutput].filter((l) => l.includes(SECRET) || l.includes(API_KEY));
    expect(leaks).toEqual([]);
  });
});
