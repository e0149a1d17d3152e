import { startTestRunline, userInput, type TestRunline } from "./harness";

// One test per hostile input the issue #9 probe found: each is a 4xx with a small body, and changes nothing.
let t: TestRunline;
let threadId: string;
let runId: string;
beforeAll(async () => {
  t = await startTestRunline("validation-boundary");
  threadId = (await t.api.post("/threads", {})).body.thread_id;
  await t.api.post(`/threads/${threadId}/runs/wait`, { assistant_id: "story", input: userInput("hi"), config: { configurable: { story_tokens: 3, story_token_delay_ms: 0 } } });
  runId = (await t.api.get(`/threads/${threadId}/runs`)).body[0].run_id;
});
afterAll(async () => {
  await t.close();
});

/** Row counts and the threads/runs rows themselves: a rejected request must leave all of it as it was. */
async function snapshot(): Promise<string> {
  const { rows } = await t.ns.pool.query(
    `SELECT (SELECT count(*) FROM checkpoints) AS checkpoints, (SELECT count(*) FROM checkpoint_writes) AS writes,
            (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY thread_id), '')) FROM threads t) AS threads,
            (SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY run_id), '')) FROM runs r) AS runs`,
  );
  return JSON.stringify(rows[0]);
}

async function expectRefused<R extends { status: number; body: any }>(send: () => Promise<R>, status: number, mention?: RegExp): Promise<R> {
  const before = await snapshot();
  const res = await send();
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ status, code: expect.any(String), detail: expect.any(String) });
  if (mention) expect(res.body.detail).toMatch(mention);
  expect(JSON.stringify(res.body).length).toBeLessThan(10_000);
  expect(await snapshot()).toBe(before);
  return res;
}

const raw = (method: string, path: string, body: string, contentType = "application/json", headers: Record<string, string> = {}) =>
  t.api.request(method, path, body, { "content-type": contentType, ...headers });

describe("the validation boundary", () => {
  it("refuses NUL and lone surrogates with 422 naming the field, before Postgres sees them", async () => {
    await expectRefused(() => t.api.post("/threads", { metadata: { note: "a\u0000b" } }), 422, /metadata\.note.*NUL/);
    await expectRefused(() => raw("POST", "/threads", '{"metadata":{"note":"\\ud800"}}'), 422, /metadata\.note.*surrogate/);
    await expectRefused(() => t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("x\u0000") }), 422, /input\.messages\.0\.content/);
    await expectRefused(() => t.api.post("/threads/search", { metadata: { "k\u0000": 1 } }), 422, /metadata/);
    await expectRefused(() => t.api.get(`/threads/${threadId}/history?before=%00`), 422, /query\.before/);
    await expectRefused(() => t.api.get(`/threads/${threadId}/state/%00`), 422, /checkpointId/);
  });

  it("refuses JSON nested 10,000 deep with 422, without recursing through it", async () => {
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    await expectRefused(() => raw("POST", "/threads", `{"metadata":{"a":${deep}}}`), 422, /deeper than 64/);
    await expectRefused(() => raw("POST", `/threads/${threadId}/state`, `{"values":{"messages":${deep}}}`), 422, /deeper/);
  });

  it("refuses a JSON body that is not sent as application/json (415), creating no thread", async () => {
    await expectRefused(() => raw("POST", "/threads", '{"metadata":{"a":1}}', "text/plain"), 415);
    await expectRefused(() => raw("POST", `/threads/${threadId}/runs`, '{"assistant_id":"story"}', "application/x-www-form-urlencoded"), 415);
    await expectRefused(() => raw("POST", "/threads", "{}", "application/json; charset=latin1"), 415);
  });

  it("bounds numbers: after_seconds 1e308 and 1e400, limit, offset, recursion_limit", async () => {
    const runs = `/threads/${threadId}/runs`;
    await expectRefused(() => t.api.post(runs, { assistant_id: "story", after_seconds: 1e308 }), 422, /after_seconds/);
    await expectRefused(() => raw("POST", runs, '{"assistant_id":"story","after_seconds":1e400}'), 422, /after_seconds.*finite/);
    await expectRefused(() => t.api.post(runs, { assistant_id: "story", config: { recursion_limit: 1e6 } }), 422, /recursion_limit/);
    await expectRefused(() => t.api.get(`${runs}?limit=100000`), 422, /limit/);
    await expectRefused(() => t.api.get(`${runs}?offset=-1`), 422, /offset/);
    await expectRefused(() => t.api.post("/threads/search", { limit: 1e9 }), 422, /limit/);
    expect((await t.api.get(`/threads/${threadId}`)).body.status).toBe("idle");
  });

  it("limits config to LangGraph's run keys: debug and __-prefixed configurable keys are refused", async () => {
    const runs = `/threads/${threadId}/runs`;
    await expectRefused(() => t.api.post(runs, { assistant_id: "story", config: { debug: true } }), 422, /debug/);
    await expectRefused(() => t.api.post(runs, { assistant_id: "story", config: { callbacks: [] } }), 422, /config may only hold/);
    await expectRefused(() => t.api.post(runs, { assistant_id: "story", config: { configurable: { __pregel_scratchpad: {} } } }), 422, /__pregel_scratchpad/);
  });

  it("checks config.configurable.checkpoint_id like checkpoint_id: unknown is 404, on a thread or stateless", async () => {
    const unknown = "1f000000-0000-6000-8000-000000000000";
    const body = { assistant_id: "story", input: userInput("fork"), config: { configurable: { checkpoint_id: unknown } } };
    const res = await expectRefused(() => t.api.post(`/threads/${threadId}/runs`, body), 404);
    expect(res.body.code).toBe("CHECKPOINT_NOT_FOUND");
    await expectRefused(() => t.api.post(`/runs`, body), 404);
    await expectRefused(() => t.api.post(`/threads/${t.ns.id}-new/runs`, { ...body, if_not_exists: "create" }), 404);
  });

  it("answers LangGraph's updateState refusals with 422 and writes no checkpoint", async () => {
    const state = `/threads/${threadId}/state`;
    await expectRefused(() => t.api.post(state, { values: 123 }), 422, /values/);
    await expectRefused(() => t.api.post(state, { values: [1, 2] }), 422, /Invalid state update/);
    await expectRefused(() => t.api.post(state, { values: {}, as_node: "nope" }), 422, /nope/);
    const role = await expectRefused(() => t.api.post(state, { values: { messages: [{ role: "wizard", content: "secret words" }] } }), 422, /message/);
    expect(JSON.stringify(role.body)).not.toContain("secret words");
  });

  it("validates POST /assistants/search", async () => {
    await expectRefused(() => t.api.post("/assistants/search", { limit: -1 }), 422, /limit/);
    await expectRefused(() => t.api.post("/assistants/search", { graph_id: 5 }), 422, /graph_id/);
    const found = await t.api.post("/assistants/search", { graph_id: "story", limit: 1 });
    expect(found.status).toBe(200);
    expect(found.body.map((a: any) => a.graph_id)).toEqual(["story"]);
  });

  it("refuses a malformed join stream_mode and a bad Last-Event-ID with a 4xx before the stream starts", async () => {
    const join = `/threads/${threadId}/runs/${runId}/stream`;
    await expectRefused(() => t.api.get(`${join}?stream_mode=%5Bgarbage`), 422, /stream_mode/);
    for (const id of ["99999999999999999999-0", "1-18446744073709551616", "9999999999999-0", "not-an-id"]) {
      const res = await expectRefused(() => t.api.request("GET", join, undefined, { "last-event-id": id }), 400, /Last-Event-ID/);
      expect(res.headers.get("content-type")).toMatch(/problem\+json/);
    }
  });

  it("caps list lengths, and the size of the answer about them", async () => {
    const runs = `/threads/${threadId}/runs`;
    const modes = await expectRefused(() => t.api.post(runs, { assistant_id: "story", stream_mode: Array(10_000).fill("x".repeat(8)) }), 422, /stream_mode/);
    expect(modes.body.issues.length).toBeLessThanOrEqual(20);
    await expectRefused(() => t.api.post(runs, { assistant_id: "story", config: { tags: Array(100_000).fill("t") } }), 422, /tags/);
    const many = await expectRefused(() => t.api.post(runs, { assistant_id: "story", interrupt_before: Array(60).fill(7), metadata: { ["k".repeat(300)]: 1 } }), 422);
    expect(many.body.issues.length).toBeLessThanOrEqual(20);
  });
});
