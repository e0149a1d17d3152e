import { continueAndCheck } from "./model-http/continue-run";
import { useModelHttpRig, words } from "./model-http/model-http-helpers";
import { stopWhen } from "./model-http/stop-when";

const rig = useModelHttpRig("model-http-nested-calls");

const nestedRun = { assistant_id: "nested_calls", stream_mode: ["values", "messages-tuple"] };
const long = { kind: "stream", tokens: words(400), delayMs: 10 } as const;

/** The text of each streamed message, by message id, in stream order. */
function streamedMessages(frames: { data: any }[]): string[] {
  const byId = new Map<string, string>();
  for (const f of frames) byId.set(f.data[0].id, (byId.get(f.data[0].id) ?? "") + f.data[0].content);
  return [...byId.values()];
}

describe("two model calls in one node (a summary, then the answer)", () => {
  it("cancel while the answer streams: both streamed messages are saved, in order, both marked partial", async () => {
    const { threadId, live, res, state } = await stopWhen(rig, {
      text: "what did I ask?",
      run: nestedRun,
      replies: [{ kind: "stream", tokens: ["They", " asked"] }, long],
      ready: (l) => streamedMessages(l.tokens()).length === 2 && l.tokens().length >= 6,
    });
    const [summary, answer] = streamedMessages(live.tokens());
    expect(summary).toBe("They asked");
    const messages = state.values.messages;
    expect(messages.map((m: any) => m.content)).toEqual(["what did I ask?", summary, answer]);
    // The node never returned: neither message is its committed output, so both carry the partial marker.
    for (const m of messages.slice(1)) expect(m.response_metadata.runline_partial).toMatchObject({ cancelled: true });
    expect(res.body.partial.message_id).toBe(messages[2].id);

    const { sent } = await continueAndCheck(rig, threadId, { run: nestedRun });
    expect(sent.map((m: any) => m.role)).toEqual(["system", "user", "assistant", "assistant", "user"]);
  });

  it("a summary call tagged `nostream` is neither shown nor saved: only the cut answer is kept", async () => {
    const hidden = { ...nestedRun, config: { configurable: { hide_summary: true } } };
    const { threadId, live, state } = await stopWhen(rig, {
      text: "and now?",
      run: hidden,
      replies: [{ kind: "stream", tokens: ["Hidden", " summary"] }, long],
      ready: (l) => l.tokens().length >= 4,
    });
    expect(streamedMessages(live.tokens())).toHaveLength(1);
    expect(state.values.messages.map((m: any) => m.content)).toEqual(["and now?", live.streamedText()]);
    await continueAndCheck(rig, threadId, { run: hidden });
  });
});
