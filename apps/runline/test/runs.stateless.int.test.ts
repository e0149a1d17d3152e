import { collectSse, waitFor } from "@runline/testing";
import { cancel, newThread, startLiveRun } from "./cancel-helpers";
import { startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("runs-stateless");
});
afterAll(async () => {
  await t.close();
});

const quick = { configurable: { story_tokens: 4, story_token_delay_ms: 0 } };

describe("stateless runs", () => {
  it("POST /runs/wait runs on a thread of its own and deletes it afterwards", async () => {
    const res = await fetch(`${t.url}/runs/wait`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "story", input: userInput("no thread"), config: quick }),
    });
    const values = JSON.parse(await res.text());
    expect(values.messages.map((m: any) => m.type)).toEqual(["human", "ai"]);
    const threadPath = res.headers.get("content-location")!.split("/runs/")[0];
    await waitFor(async () => (await t.api.get(threadPath)).status === 404, { what: "temporary thread deleted" });
  });

  it("POST /runs/stream streams, and on_completion=keep keeps the thread", async () => {
    const { frames, headers } = await collectSse(`${t.url}/runs/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "story", input: userInput("keep me"), config: quick, on_completion: "keep", stream_mode: "values" }),
    });
    expect(frames[frames.length - 1].data.status).toBe("success");
    const threadPath = headers.get("content-location")!.split("/runs/")[0];
    expect((await t.api.get(`${threadPath}/state`)).body.values.messages).toHaveLength(2);
  });
});

describe("POST /runs/cancel", () => {
  it("cancels the listed runs (partial saved) and refuses contradictory filters", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "story");
    await live.readTokens(3);
    expect((await t.api.post("/runs/cancel", { status: "all", thread_id: threadId })).status).toBe(422);
    expect((await t.api.post("/runs/cancel", {})).status).toBe(422);
    expect((await t.api.post("/runs/cancel?action=interrupt", { run_ids: [live.runId] })).status).toBe(204);
    await live.readToEnd();
    expect(live.frames[live.frames.length - 1].data).toMatchObject({ status: "interrupted", partial: { token_count: live.tokens().length } });
    expect((await cancel(t, live)).body.outcome).toBe("already_finished");
  });

  it("a refused stateless run and one cancelled while queued leave no thread behind", async () => {
    const threadsBefore = (await t.ns.pool.query(`SELECT count(*)::int AS n FROM threads`)).rows[0].n;
    expect((await t.api.post("/runs", { assistant_id: "no-such-graph", input: userInput("x") })).status).toBe(404);
    expect((await t.api.post("/runs", { assistant_id: "story", input: userInput("x"), webhook: "http://127.0.0.1:9/hook" })).status).toBe(422);
    // Queued for a minute, then cancelled before any worker took it: finished by the API, thread deleted.
    const queued = await t.api.post("/runs", { assistant_id: "story", input: userInput("later"), after_seconds: 60 });
    expect(queued.status).toBe(200);
    const threadPath = queued.headers.get("content-location")!.split("/runs/")[0];
    expect((await t.api.post(`${threadPath}/runs/${queued.body.run_id}/cancel?wait=1`)).body.status).toBe("interrupted");
    await waitFor(async () => (await t.api.get(threadPath)).status === 404, { what: "temporary thread deleted" });
    expect((await t.ns.pool.query(`SELECT count(*)::int AS n FROM threads`)).rows[0].n).toBe(threadsBefore);
  });
});
