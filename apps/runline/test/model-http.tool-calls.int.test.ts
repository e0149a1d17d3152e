import { cancel, newThread, startLiveRun } from "./cancel-helpers";
import { assertProviderValidHistory } from "./model-http/provider-history";
import { useModelHttpRig } from "./model-http/model-http-helpers";

const rig = useModelHttpRig("model-http-tools");

describe("a tool call cut mid-stream", () => {
  it("is dropped from the saved partial, listed in runline_dropped_tool_calls, and the history stays valid", async () => {
    // Text, then a tool call whose arguments arrive in 40 pieces, 20 ms apart: the cancel lands inside them.
    rig.fake.enqueue({ kind: "stream", tokens: ["Let", " me", " search"], delayMs: 20, toolCalls: [{ id: "call_cut", name: "search", args: JSON.stringify({ query: "lighthouse keepers of the north coast ".repeat(3) }), argChunks: 40 }] });
    const threadId = await newThread(rig.t);
    const live = await startLiveRun(rig.t, threadId, "look it up");
    // Read until the tool call started streaming (a frame carrying a tool_call_chunk), plus a few argument pieces.
    await live.readUntil((f) => f.event === "messages" && (f.data[0].tool_call_chunks ?? []).some((c: any) => c.id === "call_cut"));
    await live.readTokens(live.tokens().length + 3);
    const res = await cancel(rig.t, live);
    expect(res.body.outcome).toBe("cancelled");
    await live.readToEnd();
    expect(rig.fake.requests.at(-1)!.clientClosed).toBe(true);

    const messages = (await rig.t.api.get(`/threads/${threadId}/state`)).body.values.messages;
    const partial = messages.at(-1);
    expect(partial.content).toBe("Let me search");
    expect(partial.tool_calls ?? []).toEqual([]);
    expect(partial.invalid_tool_calls ?? []).toEqual([]);
    const [dropped] = partial.additional_kwargs.runline_dropped_tool_calls;
    expect(dropped).toMatchObject({ id: "call_cut", name: "search" });
    expect(dropped.args.length).toBeGreaterThan(0); // the half-streamed arguments, kept for the record
    expect(partial.additional_kwargs.tool_calls).toBeUndefined();
    assertProviderValidHistory(messages);

    // "please continue" reaches the provider with no assistant tool call lacking its result.
    rig.fake.enqueue({ kind: "stream", tokens: ["ok"] });
    const next = await startLiveRun(rig.t, threadId, "please continue");
    await next.readToEnd();
    const sent = rig.fake.requests.at(-1)!.body.messages;
    expect(sent.map((m: any) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(sent[1].tool_calls).toBeUndefined();
  });
});
