import { collectSse } from "@runline/testing";
import { cancel, newThread, startLiveRun } from "./cancel-helpers";
import { startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("threads-manage");
});
afterAll(async () => {
  await t.close();
});

const quick = { configurable: { story_tokens: 5, story_token_delay_ms: 0 } };

async function runToEnd(threadId: string, text: string, extra: Record<string, unknown> = {}) {
  const { frames } = await collectSse(`${t.url}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ assistant_id: "story", input: userInput(text), config: quick, ...extra }),
  });
  return frames;
}

describe("thread management", () => {
  it("searches by metadata containment and status, with pagination headers, and counts", async () => {
    const tag = t.ns.id;
    for (let i = 0; i < 5; i++) await t.api.post("/threads", { metadata: { tag, owner: i % 2 ? "odd" : "even", n: i } });
    const page1 = await t.api.post("/threads/search", { metadata: { tag, owner: "even" }, limit: 2, sort_by: "created_at", sort_order: "asc" });
    expect(page1.status).toBe(200);
    expect(page1.body.map((th: any) => th.metadata.n)).toEqual([0, 2]);
    expect(page1.headers.get("x-pagination-total")).toBe("3");
    expect(page1.headers.get("x-pagination-next")).toBe("2");
    const page2 = await t.api.post("/threads/search", { metadata: { tag, owner: "even" }, limit: 2, offset: 2, sort_order: "asc" });
    expect(page2.body.map((th: any) => th.metadata.n)).toEqual([4]);
    expect(page2.headers.get("x-pagination-next")).toBeNull();
    expect((await t.api.post("/threads/count", { metadata: { tag } })).body).toBe(5);
    expect((await t.api.post("/threads/search", { metadata: { tag }, status: "busy" })).body).toEqual([]);
    expect((await t.api.post("/threads/search", { sort_by: "bogus" })).status).toBe(422);
  });

  it("patches metadata by merging", async () => {
    const threadId = (await t.api.post("/threads", { metadata: { a: 1, b: 1 } })).body.thread_id;
    const res = await t.api.request("PATCH", `/threads/${threadId}`, { metadata: { b: 2, c: 3 } });
    expect(res.body.metadata).toEqual({ a: 1, b: 2, c: 3 });
    expect((await t.api.request("PATCH", `/threads/${threadId}`, { metadata: "x" })).status).toBe(422);
  });

  it("deletes a thread with its runs and checkpoints, cancelling a run in progress first", async () => {
    const threadId = await newThread(t);
    await runToEnd(threadId, "first");
    const live = await startLiveRun(t, threadId, "second");
    await live.readTokens(3);
    const res = await t.api.request("DELETE", `/threads/${threadId}`);
    expect(res.status).toBe(204);
    await live.readToEnd();
    expect(live.frames[live.frames.length - 1].data.status).toBe("interrupted");
    expect((await t.api.get(`/threads/${threadId}`)).status).toBe(404);
    // Checkpoints name their thread by its storage key, `<tenant>:<id>`.
    const { rows } = await t.ns.pool.query(`SELECT count(*)::int AS n FROM checkpoints WHERE thread_id LIKE '%:' || $1`, [threadId]);
    expect(rows[0].n).toBe(0);
    expect((await t.api.request("DELETE", `/threads/${threadId}`)).status).toBe(404);
  });
});

describe("thread state", () => {
  it("updates state at the head or at an earlier checkpoint (a fork), and reads state at a checkpoint", async () => {
    const threadId = await newThread(t);
    expect((await t.api.post(`/threads/${threadId}/state`, { values: { messages: [] } })).status).toBe(400);
    await runToEnd(threadId, "hello");
    const head = (await t.api.get(`/threads/${threadId}/state`)).body;
    const updated = await t.api.post(`/threads/${threadId}/state`, {
      values: { messages: [{ type: "human", content: "added by hand", id: "manual-1" }] },
      as_node: "llm",
    });
    expect(updated.status).toBe(200);
    expect(updated.body.checkpoint).toMatchObject({ thread_id: threadId, checkpoint_ns: "", checkpoint_id: expect.any(String) });
    const after = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(after.values.messages.map((m: any) => m.content).pop()).toBe("added by hand");
    expect(after.parent_checkpoint.checkpoint_id).toBe(head.checkpoint.checkpoint_id);

    const fork = await t.api.post(`/threads/${threadId}/state`, {
      values: { messages: [{ type: "human", content: "fork", id: "manual-2" }] },
      checkpoint_id: head.checkpoint.checkpoint_id,
      as_node: "llm",
    });
    const forked = (await t.api.post(`/threads/${threadId}/state/checkpoint`, { checkpoint: { checkpoint_id: fork.body.checkpoint.checkpoint_id } })).body;
    expect(forked.values.messages.map((m: any) => m.content)).toEqual(["hello", expect.any(String), "fork"]);
    expect((await t.api.post(`/threads/${threadId}/state/checkpoint`, { checkpoint: { checkpoint_id: "nope" } })).status).toBe(404);
  });

  it("refuses a state update while a run is in progress (409), and changes nothing", async () => {
    const threadId = await newThread(t);
    await runToEnd(threadId, "hello");
    const live = await startLiveRun(t, threadId, "busy now");
    await live.readTokens(2);
    const res = await t.api.post(`/threads/${threadId}/state`, { values: { messages: [] }, as_node: "llm" });
    expect(res.status).toBe(409);
    await cancel(t, live);
    await live.readToEnd();
  });
});

describe("waiting for runs", () => {
  it("POST /runs/wait answers the run's final values; join answers them again; a finished run can be deleted", async () => {
    const threadId = await newThread(t);
    const res = await fetch(`${t.url}/threads/${threadId}/runs/wait`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "story", input: userInput("wait for me"), config: quick }),
    });
    expect(res.status).toBe(200);
    const runPath = res.headers.get("content-location")!;
    const values = JSON.parse(await res.text());
    expect(values.messages.map((m: any) => m.type)).toEqual(["human", "ai"]);
    const joined = await t.api.get(`${runPath}/join`);
    expect(joined.body).toEqual(values);
    expect((await t.api.request("DELETE", runPath)).status).toBe(204);
    expect((await t.api.get(runPath)).status).toBe(404);
  });

  it("an active run cannot be deleted", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "story");
    await live.readTokens(1);
    expect((await t.api.request("DELETE", `/threads/${threadId}/runs/${live.runId}`)).status).toBe(409);
    await cancel(t, live);
    await live.readToEnd();
  });
});
