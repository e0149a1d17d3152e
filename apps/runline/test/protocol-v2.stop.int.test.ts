import { lastAiText, startTestRunline, type TestRunline } from "./harness";
import { isTerminal, mintThreadId, openEvents, readUntil, startRun, streamedText } from "./protocol-v2-helpers";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("protocol-v2-stop");
});
afterAll(async () => {
  await t.close();
});

const long = { configurable: { story_tokens: 400, story_token_delay_ms: 10 } };
const deltas = (events: any[]) => events.filter((e) => e.method === "messages" && e.params.data.event === "content-block-delta").length;

describe("stop from a @langchain/react 1.x page", () => {
  it("keeps the partial: finished message marked partial, values paired with its checkpoint, one interrupted lifecycle; state, history, continue and fork work", async () => {
    const threadId = mintThreadId(t);
    const { runId } = await startRun(t, threadId, "tell me a long story", { config: long });
    const stream = await openEvents(t, threadId, { channels: ["values", "checkpoints", "lifecycle", "input", "messages", "tools"], namespaces: [[]], depth: 1 });
    const before = await readUntil(stream, (_e, all) => deltas(all) >= 5);
    // What stop() sends.
    const cancel = await t.api.post(`/threads/${threadId}/runs/${runId}/cancel?wait=0&action=interrupt`);
    expect(cancel.status).toBe(202);
    const rest = await readUntil(stream, isTerminal);
    const events = [...before, ...rest];

    const terminals = events.filter(isTerminal);
    expect(terminals.map((e) => e.params.data.event)).toEqual(["interrupted"]);
    const finish = events.filter((e) => e.method === "messages" && e.params.data.event === "message-finish");
    expect(finish).toHaveLength(1);
    expect(finish[0].params.data).toMatchObject({ partial: true });
    const text = streamedText(events);

    const run = (await t.api.get(`/threads/${threadId}/runs/${runId}`)).body;
    expect(run).toMatchObject({ status: "interrupted", partial: { checkpoint_id: expect.any(String) } });
    // The last values event carries the partial and comes right after the checkpoint it was saved as.
    const lastValues = events.map((e, i) => [e, i] as const).filter(([e]) => e.method === "values").pop()!;
    expect(lastAiText(lastValues[0].params.data)).toBe(text);
    const paired = events[lastValues[1] - 1];
    expect(paired).toMatchObject({ method: "checkpoints", params: { data: { id: run.partial.checkpoint_id, parent_id: run.partial.parent_checkpoint_id } } });

    // A reload: GET /state must not look active, POST /history as the client calls it.
    const state = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(state.next).toEqual([]);
    expect(state.checkpoint.checkpoint_id).toBe(run.partial.checkpoint_id);
    expect(lastAiText(state.values)).toBe(text);
    const history = await t.api.post(`/threads/${threadId}/history`, { limit: 20 });
    expect(history.status).toBe(200);
    expect(history.body[0].checkpoint.checkpoint_id).toBe(run.partial.checkpoint_id);
    const scoped = await t.api.post(`/threads/${threadId}/history`, { limit: 1, checkpoint: { checkpoint_ns: "" } });
    expect(scoped.status).toBe(200);
    expect(scoped.body).toHaveLength(1);

    // "please continue the story" on the same connection sees the partial.
    await startRun(t, threadId, "please continue the story");
    const next = await readUntil(stream, isTerminal);
    expect(next.filter(isTerminal).map((e) => e.params.data.event)).toEqual(["completed"]);
    const continued = lastAiText(next.filter((e) => e.method === "values").pop().params.data);
    expect(continued).toContain("saw 3 messages");
    // The story model reports what it was given: the partial, word for word.
    expect(continued).toContain(`1 earlier assistant messages with ${text.trim().split(/\s+/).length} words`);

    // forkFrom(parentCheckpointId of the partial) = config.configurable.checkpoint_id: a branch beside it.
    await startRun(t, threadId, "make it a poem", { config: { configurable: { checkpoint_id: paired.params.data.parent_id, story_tokens: 5, story_token_delay_ms: 0 } } });
    const forked = await readUntil(stream, isTerminal);
    stream.close();
    const forkValues = forked.filter((e) => e.method === "values").pop().params.data;
    expect(forkValues.messages.map((m: any) => m.type)).toEqual(["human", "human", "ai"]);
    expect(forkValues.messages[1].content).toBe("make it a poem");
  });

  it("a run cancelled while still queued ends with one interrupted lifecycle", async () => {
    const threadId = mintThreadId(t);
    const { runId: first } = await startRun(t, threadId, "first", { config: long });
    const { runId: queued } = await startRun(t, threadId, "second");
    const stream = await openEvents(t, threadId, { channels: ["lifecycle"] });
    expect((await t.api.post(`/threads/${threadId}/runs/${queued}/cancel?wait=1&action=interrupt`)).status).toBe(200);
    expect((await t.api.post(`/threads/${threadId}/runs/${first}/cancel?wait=0&action=interrupt`)).status).toBe(202);
    const events = await readUntil(stream, (_e, all) => all.filter(isTerminal).length === 2);
    stream.close();
    const byRun = (runId: string) => events.filter((e) => e.event_id.startsWith(`synth:${runId}:`) && isTerminal(e)).map((e) => e.params.data.event);
    expect(byRun(first)).toEqual(["interrupted"]);
    expect(byRun(queued)).toEqual(["interrupted"]);
  });
});
