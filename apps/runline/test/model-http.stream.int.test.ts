import { cancel, newThread, startLiveRun } from "./cancel-helpers";
import { lastAiText } from "./harness";
import { useModelHttpRig, words } from "./model-http/model-http-helpers";

const rig = useModelHttpRig("model-http-stream");

describe("ChatOpenAI over real HTTP (the fake server is the only fake)", () => {
  it("streams the provider's tokens to subscribers and commits the finished answer with its usage", async () => {
    rig.fake.enqueue({ kind: "stream", tokens: words(5), usage: { prompt_tokens: 7, completion_tokens: 5 } });
    const threadId = await newThread(rig.t);
    const live = await startLiveRun(rig.t, threadId, "hello");
    await live.readToEnd();
    expect(live.streamedText()).toBe(words(5).join(""));
    const request = rig.fake.requests.at(-1)!;
    expect(request.body).toMatchObject({ model: "fake-gpt", stream: true, stream_options: { include_usage: true } });
    expect(request.body.messages).toEqual([{ role: "user", content: "hello" }]);
    const state = (await rig.t.api.get(`/threads/${threadId}/state`)).body;
    const ai = state.values.messages.at(-1);
    expect(ai.id).toMatch(/^chatcmpl-fake-/);
    expect(ai.content).toBe(words(5).join(""));
    expect(ai.usage_metadata).toMatchObject({ input_tokens: 7, output_tokens: 5 });
  });

  it("a cancel closes the upstream request and the partial keeps the provider's id, marked cancelled", async () => {
    rig.fake.enqueue({ kind: "stream", tokens: words(500), delayMs: 10 });
    const threadId = await newThread(rig.t);
    const live = await startLiveRun(rig.t, threadId, "tell me a long one");
    await live.readTokens(5);
    const request = rig.fake.requests.at(-1)!;
    const res = await cancel(rig.t, live);
    expect(res.body).toMatchObject({ outcome: "cancelled", status: "interrupted" });
    await live.readToEnd();
    // The provider saw the client hang up, not a finished reply (the cancel answer waits for the save only).
    await request.closed;
    expect(request.clientClosed).toBe(true);
    expect(request.chunksSent).toBeLessThan(500);

    const state = (await rig.t.api.get(`/threads/${threadId}/state`)).body;
    const partial = state.values.messages.at(-1);
    expect(partial.id).toMatch(/^chatcmpl-fake-/);
    expect(partial.id).toBe(res.body.partial.message_id);
    expect(partial.content).toBe(live.streamedText());
    expect(partial.response_metadata).toMatchObject({ finish_reason: "cancelled", runline_partial: { cancelled: true, reason: "cancel" } });
    expect(partial.usage_metadata).toBeUndefined(); // a cut stream never got its usage chunk

    // "please continue": the next request carries the partial as the assistant turn.
    rig.fake.enqueue({ kind: "stream", tokens: ["and", " then"] });
    const next = await startLiveRun(rig.t, threadId, "please continue");
    await next.readToEnd();
    const sent = rig.fake.requests.at(-1)!.body.messages;
    expect(sent.map((m: any) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(sent[1].content).toBe(live.streamedText());
    expect(lastAiText((await rig.t.api.get(`/threads/${threadId}/state`)).body.values)).toBe("and then");
  });

  it("a cancel after the provider's last chunk but before [DONE] still saves a cancelled partial (no usage)", async () => {
    // All chunks, finish and usage arrive, then the server stalls before [DONE] (sending only SSE comments, which
    // keep the idle timeout at bay): the node never returns, so this is still a cut answer.
    rig.fake.enqueue({ kind: "stream", tokens: words(3), stallBeforeDone: true, keepAliveMs: 100, usage: { prompt_tokens: 4, completion_tokens: 3 } });
    const threadId = await newThread(rig.t);
    const live = await startLiveRun(rig.t, threadId, "short");
    // Three content deltas and the finish delta (ChatOpenAI keeps its finish_reason in generation info, not on the chunk).
    await live.readTokens(4);
    const res = await cancel(rig.t, live);
    expect(res.body.outcome).toBe("cancelled");
    await live.readToEnd();
    await rig.fake.requests.at(-1)!.closed;
    const partial = (await rig.t.api.get(`/threads/${threadId}/state`)).body.values.messages.at(-1);
    // ChatOpenAI 1.5.8 reads the usage chunk but yields it only once the stream ends ([DONE]): a stopped stream
    // never has it, even when the provider sent it.
    expect(partial.usage_metadata).toBeUndefined();
    expect(partial.content).toBe(words(3).join(""));
    expect(partial.response_metadata).toMatchObject({ finish_reason: "cancelled", runline_partial: { cancelled: true, token_count: 4 } });
  });
});
