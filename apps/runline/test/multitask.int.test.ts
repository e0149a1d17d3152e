import { collectSse } from "@runline/testing";
import { lastAiText, startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("multitask");
});
afterAll(async () => {
  await t.close();
});

const slow = { configurable: { story_tokens: 25, story_token_delay_ms: 15 } };

describe("a run that arrives while another is active", () => {
  it("waits for it with enqueue (the default), then runs and sees its messages; never two running at once", async () => {
    const threadId = (await t.api.post("/threads", {})).body.thread_id;
    const first = (await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("first"), config: slow })).body;
    const second = (await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("second") })).body;
    const third = (await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("third"), multitask_strategy: "enqueue" })).body;
    expect(second.status).toBe("pending");
    expect((await t.api.get(`/threads/${threadId}`)).body.status).toBe("busy");

    const thirdStream = await collectSse(`${t.url}/threads/${threadId}/runs/${third.run_id}/stream`, { headers: {} });
    expect(thirdStream.frames.pop()).toMatchObject({ event: "end", data: { status: "success" } });

    const runs = await Promise.all([first, second, third].map(async (r) => (await t.api.get(`/threads/${threadId}/runs/${r.run_id}`)).body));
    for (const run of runs) expect(run.status).toBe("success");
    // strictly one after the other
    expect(Date.parse(runs[1].started_at)).toBeGreaterThanOrEqual(Date.parse(runs[0].finished_at));
    expect(Date.parse(runs[2].started_at)).toBeGreaterThanOrEqual(Date.parse(runs[1].finished_at));

    const state = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(state.values.messages.map((m: any) => m.type)).toEqual(["human", "ai", "human", "ai", "human", "ai"]);
    expect(lastAiText(state.values)).toContain("saw 5 messages");
    expect((await t.api.get(`/threads/${threadId}`)).body.status).toBe("idle");
  });

  it("is refused with 409 under multitask_strategy=reject, and nothing is written", async () => {
    const threadId = (await t.api.post("/threads", {})).body.thread_id;
    const first = (await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("first"), config: slow })).body;
    const rejected = await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("nope"), multitask_strategy: "reject" });
    expect(rejected.status).toBe(409);
    expect(rejected.body.code).toBe("THREAD_BUSY");
    await collectSse(`${t.url}/threads/${threadId}/runs/${first.run_id}/stream`);
    const runs = (await t.api.get(`/threads/${threadId}/runs`)).body;
    expect(runs.map((r: any) => r.run_id)).toEqual([first.run_id]);
    // once the thread is idle, reject lets a run through
    const later = await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("later"), multitask_strategy: "reject" });
    expect(later.status).toBe(200);
    await collectSse(`${t.url}/threads/${threadId}/runs/${later.body.run_id}/stream`);
  });

  it("many runs sent at once to one thread all finish, one at a time, with no lost message", async () => {
    const threadId = (await t.api.post("/threads", {})).body.thread_id;
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) => t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput(`msg ${i}`) })),
    );
    for (const c of created) expect(c.status).toBe(200);
    for (const c of created) await collectSse(`${t.url}/threads/${threadId}/runs/${c.body.run_id}/stream`);
    const runs = (await t.api.get(`/threads/${threadId}/runs?limit=10`)).body.reverse();
    for (let i = 1; i < runs.length; i++) expect(Date.parse(runs[i].started_at)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1].finished_at));
    const state = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(state.values.messages).toHaveLength(12);
    const humans = state.values.messages.filter((m: any) => m.type === "human").map((m: any) => m.content).sort();
    expect(humans).toEqual(Array.from({ length: 6 }, (_, i) => `msg ${i}`));
  });

  it("after_seconds delays the start; a delayed run can be cancelled before it starts", async () => {
    const threadId = (await t.api.post("/threads", {})).body.thread_id;
    const delayed = (await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("later"), after_seconds: 0.5 })).body;
    await collectSse(`${t.url}/threads/${threadId}/runs/${delayed.run_id}/stream`);
    const run = (await t.api.get(`/threads/${threadId}/runs/${delayed.run_id}`)).body;
    expect(run.status).toBe("success");
    expect(Date.parse(run.started_at) - Date.parse(run.created_at)).toBeGreaterThanOrEqual(500);

    const never = (await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("never"), after_seconds: 30 })).body;
    const cancelled = await t.api.post(`/threads/${threadId}/runs/${never.run_id}/cancel?wait=1`);
    expect(cancelled.body).toMatchObject({ outcome: "cancelled", status: "interrupted", partial: { token_count: 0 } });
    expect((await t.api.get(`/threads/${threadId}`)).body.status).toBe("idle");
  });
});
