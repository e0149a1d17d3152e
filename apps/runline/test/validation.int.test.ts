import { startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("validation", { RUNLINE_BODY_LIMIT: "10kb" });
});
afterAll(async () => {
  await t.close();
});

async function expectClientError(res: { status: number; body: any }, status: number, mention?: RegExp) {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ status, code: expect.any(String), detail: expect.any(String) });
  if (mention) expect(res.body.detail).toMatch(mention);
}

describe("bad input gets a clear 4xx and changes nothing", () => {
  it("rejects malformed thread bodies", async () => {
    await expectClientError(await t.api.post("/threads", { metadata: "not an object" }), 422, /metadata/);
    await expectClientError(await t.api.post("/threads", { thread_id: "has spaces" }), 422, /thread_id/);
    await expectClientError(await t.api.request("POST", "/threads", "{not json", { "content-type": "application/json" }), 400, /JSON/);
    await expectClientError(await t.api.post("/threads", { metadata: { blob: "x".repeat(20_000) } }), 413);
  });

  it("rejects malformed run bodies without creating a run or touching the thread", async () => {
    const threadId = (await t.api.post("/threads", {})).body.thread_id;
    const path = `/threads/${threadId}/runs`;
    await expectClientError(await t.api.post(path, { input: userInput("x") }), 422, /assistant_id/);
    await expectClientError(await t.api.post(path, { assistant_id: "story", stream_mode: ["bogus"] }), 422, /stream_mode/);
    await expectClientError(await t.api.post(path, { assistant_id: "story", multitask_strategy: "sometimes" }), 422, /multitask_strategy/);
    await expectClientError(await t.api.post(path, { assistant_id: "story", config: { recursion_limit: -1 } }), 422, /recursion_limit/);
    await expectClientError(await t.api.post(path, { assistant_id: "story", webhook: "http://127.0.0.1:9/hook" }), 422, /webhook/);
    await expectClientError(await t.api.post(path, { assistant_id: "story", after_seconds: -1 }), 422, /after_seconds/);
    await expectClientError(await t.api.post(path, { assistant_id: "no-such-graph" }), 404);
    await expectClientError(await t.api.post(`${path}/stream`, { assistant_id: "story", stream_mode: 7 }), 422, /stream_mode/);
    await expectClientError(await t.api.post(`/threads/missing-thread/runs`, { assistant_id: "story" }), 404);
    await expectClientError(await t.api.get(`/threads/${threadId}/runs?limit=-3`), 422, /limit/);

    expect((await t.api.get(`${path}`)).body).toEqual([]);
    const thread = (await t.api.get(`/threads/${threadId}`)).body;
    expect(thread.status).toBe("idle");
    expect(thread.metadata).toEqual({});
    expect((await t.api.get(`/threads/${threadId}/state`)).body.checkpoint).toBeNull();
  });

  it("answers unknown routes and unknown runs with 404 JSON", async () => {
    await expectClientError(await t.api.get("/nope"), 404);
    const threadId = (await t.api.post("/threads", {})).body.thread_id;
    await expectClientError(await t.api.get(`/threads/${threadId}/runs/unknown-run`), 404);
  });

  it("creating a thread twice is a 409 unless if_exists=do_nothing", async () => {
    const threadId = `${t.ns.id}-dup`;
    expect((await t.api.post("/threads", { thread_id: threadId, metadata: { a: 1 } })).status).toBe(200);
    await expectClientError(await t.api.post("/threads", { thread_id: threadId }), 409);
    const again = await t.api.post("/threads", { thread_id: threadId, if_exists: "do_nothing", metadata: { a: 2 } });
    expect(again.status).toBe(200);
    expect(again.body.metadata).toEqual({ a: 1 });
  });
});
