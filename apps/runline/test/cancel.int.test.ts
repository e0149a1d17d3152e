import { collectSse } from "@runline/testing";
import { cancel, newThread, startLiveRun } from "./cancel-helpers";
import { lastAiText, startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("cancel");
});
afterAll(async () => {
  await t.close();
});

async function streamToEnd(threadId: string, body: Record<string, unknown>) {
  const { frames } = await collectSse(`${t.url}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ assistant_id: "story", stream_mode: "values", ...body }),
  });
  return frames;
}

describe("cancel a streaming run (interrupt)", () => {
  it("saves the streamed text into the thread before answering, and the next run continues from it", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "tell me a long story");
    await live.readTokens(8);
    const res = await cancel(t, live);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: "cancelled", status: "interrupted", action: "interrupt", run_id: live.runId });
    const partial = res.body.partial;

    // The stream closes with the final values and the terminal event. Every token the subscriber got is in the
    // saved partial, and none came after it.
    await live.readToEnd();
    expect(live.frames[live.frames.length - 1]).toMatchObject({ event: "end", data: { status: "interrupted", partial } });
    const streamedText = live.streamedText();
    expect(partial).toMatchObject({ token_count: live.tokens().length, message_id: live.tokens()[0].data[0].id });
    const lastToken = live.frames.lastIndexOf(live.tokens()[live.tokens().length - 1]);
    expect(live.frames.slice(lastToken + 1).map((f) => f.event)).toEqual(["values", "end"]);
    expect(lastAiText(live.frames[lastToken + 1].data)).toBe(streamedText);

    const state = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(state.checkpoint.checkpoint_id).toBe(partial.checkpoint_id);
    expect(state.parent_checkpoint.checkpoint_id).toBe(partial.parent_checkpoint_id);
    expect(state.next).toEqual([]);
    const saved = state.values.messages[1];
    expect(saved).toMatchObject({ type: "ai", id: partial.message_id, content: streamedText });
    expect(saved.response_metadata.runline_partial).toMatchObject({ cancelled: true, run_id: live.runId, token_count: partial.token_count, action: "interrupt" });
    // The answer's run is the run as stored (built from the `end` event, not read back): the same, field for field.
    const stored = (await t.api.get(`/threads/${threadId}/runs/${live.runId}`)).body;
    expect(stored).toMatchObject({ status: "interrupted", partial });
    expect(res.body.run).toEqual(stored);
    expect((await t.api.get(`/threads/${threadId}`)).body.status).toBe("idle");

    const lastWords = streamedText.trim().split(/\s+/).slice(-5).join(" ");
    const next = await streamToEnd(threadId, { input: userInput("please continue the story") });
    const continued = lastAiText(next.filter((f) => f.event === "values").pop()!.data);
    expect(continued).toContain("saw 3 messages");
    expect(continued).toContain(lastWords);
  });

  it("two cancels at once save the partial once and get the same answer", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "story");
    await live.readTokens(5);
    const [a, b] = await Promise.all([cancel(t, live), cancel(t, live)]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.partial).toEqual(b.body.partial);
    expect(a.body.partial.checkpoint_id).toEqual(expect.any(String));
    await live.readToEnd();
    const history = (await t.api.post(`/threads/${threadId}/history`, { limit: 50 })).body;
    const partialCheckpoints = history.filter((s: any) => s.values.messages?.some((m: any) => m.response_metadata?.runline_partial));
    expect(partialCheckpoints).toHaveLength(1);
  });

  it("cancelling a finished run changes nothing and says so", async () => {
    const threadId = await newThread(t);
    const frames = await streamToEnd(threadId, { input: userInput("short"), config: { configurable: { story_tokens: 5, story_token_delay_ms: 0 } } });
    const runId = frames[0].data.run_id;
    const before = (await t.api.get(`/threads/${threadId}/state`)).body;
    const res = await cancel(t, { threadId, runId });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: "already_finished", status: "success", partial: null });
    expect(res.body.detail).toMatch(/already ended with status success/);
    expect((await t.api.get(`/threads/${threadId}/state`)).body).toEqual(before);
  });

  it("wait=0 answers 202 at once; the run still ends interrupted with its partial saved", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "story");
    await live.readTokens(4);
    const res = await cancel(t, live, "wait=0");
    expect(res.status).toBe(202);
    expect(res.body.outcome).toBe("requested");
    // A read right after the stop (what useStream does) waits for the partial instead of missing it.
    const state = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(state.values.messages[1]?.response_metadata?.runline_partial).toMatchObject({ cancelled: true });
    await live.readToEnd();
    const run = (await t.api.get(`/threads/${threadId}/runs/${live.runId}`)).body;
    expect(run.status).toBe("interrupted");
    expect(run.partial.token_count).toBe(live.tokens().length);
  });

  it("an unknown run is 404 and bad query values are 4xx", async () => {
    const threadId = await newThread(t);
    expect((await cancel(t, { threadId, runId: "no-such-run" })).status).toBe(404);
    const live = await startLiveRun(t, threadId, "story");
    expect((await cancel(t, live, "wait=maybe")).status).toBe(422);
    expect((await cancel(t, live, "action=explode")).status).toBe(422);
    await cancel(t, live);
    await live.readToEnd();
  });
});

describe("cancel with action=rollback", () => {
  it("keeps the partial as a branch, puts the head back to where the run started, and a run from the partial continues it", async () => {
    const threadId = await newThread(t);
    await streamToEnd(threadId, { input: userInput("first"), config: { configurable: { story_tokens: 6, story_token_delay_ms: 0 } } });
    const before = (await t.api.get(`/threads/${threadId}/state`)).body;

    const live = await startLiveRun(t, threadId, "second");
    await live.readTokens(6);
    const res = await cancel(t, live, "wait=1&action=rollback");
    expect(res.body).toMatchObject({ outcome: "cancelled", status: "interrupted", action: "rollback" });
    const partial = res.body.partial;
    await live.readToEnd();
    const streamedText = live.streamedText();

    const head = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(head.checkpoint.checkpoint_id).toBe(partial.head_checkpoint_id);
    expect(head.values).toEqual(before.values);
    expect(head.next).toEqual(before.next);
    expect(head.parent_checkpoint.checkpoint_id).toBe(before.checkpoint.checkpoint_id);

    const branch = (await t.api.get(`/threads/${threadId}/state/${partial.checkpoint_id}`)).body;
    expect(branch.values.messages.map((m: any) => m.content)).toEqual([...before.values.messages.map((m: any) => m.content), "second", streamedText]);
    expect(branch.parent_checkpoint.checkpoint_id).toBe(partial.parent_checkpoint_id);
    const history = (await t.api.post(`/threads/${threadId}/history`, { limit: 50 })).body;
    const ids = history.map((s: any) => s.checkpoint.checkpoint_id);
    expect(ids).toEqual(expect.arrayContaining([partial.checkpoint_id, partial.head_checkpoint_id, before.checkpoint.checkpoint_id]));

    const continued = await streamToEnd(threadId, { input: userInput("please continue the story"), checkpoint_id: partial.checkpoint_id });
    const values = continued.filter((f) => f.event === "values").pop()!.data;
    expect(values.messages.map((m: any) => m.content).slice(0, 5)).toEqual([...before.values.messages.map((m: any) => m.content), "second", streamedText, "please continue the story"]);
    expect(lastAiText(values)).toContain(streamedText.trim().split(/\s+/).slice(-5).join(" "));
  });
});
