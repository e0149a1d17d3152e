import { continueAndCheck } from "./model-http/continue-run";
import { useModelHttpRig, words } from "./model-http/model-http-helpers";
import { stopWhen } from "./model-http/stop-when";

const rig = useModelHttpRig("model-http-custom-state");

const chatInput = (text: string) => ({ chat: [{ role: "user", content: text }] });
const long = { kind: "stream", tokens: words(400), delayMs: 10 } as const;

describe("a graph whose messages key is `chat`, and one that streams with streamMode custom", () => {
  it("`chat`: the partial is saved under `chat` (the one key holding messages); other keys are untouched", async () => {
    const chatRun = { assistant_id: "chat_key", stream_mode: ["values", "messages-tuple"], input: chatInput("hello there") };
    const { threadId, live, res, state } = await stopWhen(rig, { text: "", run: chatRun, replies: [long], ready: (l) => l.tokens().length >= 4 });
    const values = state.values;
    expect(values.messages).toBeUndefined();
    expect(values.notes).toEqual([]);
    expect(values.chat.map((m: any) => m.content)).toEqual(["hello there", live.streamedText()]);
    expect(values.chat[1].response_metadata.runline_partial).toMatchObject({ cancelled: true, token_count: live.tokens().length });
    expect(res.body.partial.message_id).toBe(values.chat[1].id);

    const { sent } = await continueAndCheck(rig, threadId, { key: "chat", run: { ...chatRun, input: chatInput("please continue") } });
    expect(sent.map((m: any) => [m.role, m.content])).toEqual([
      ["user", "hello there"],
      ["assistant", live.streamedText()],
      ["user", "please continue"],
    ]);
  });

  it("custom: the `custom` events reach subscribers but are not saved; the model's tokens (messages mode) are", async () => {
    const customRun = { assistant_id: "custom_stream", stream_mode: ["values", "messages-tuple", "custom"] };
    const deltaFrames = (l: { frames: { event: string; data: any }[] }) => l.frames.filter((f) => f.event === "custom" && "delta" in f.data);
    const { threadId, live, state } = await stopWhen(rig, { text: "narrate it", run: customRun, replies: [long], ready: (l) => deltaFrames(l).length >= 4 });

    expect(live.frames.find((f) => f.event === "custom")!.data).toEqual({ progress: "calling the model" });
    expect(state.values.messages.map((m: any) => m.content)).toEqual(["narrate it", live.streamedText()]);
    // The custom deltas carried the same text: what the UI showed from them is in the saved partial.
    const deltas = deltaFrames(live).map((f) => f.data.delta).join("");
    expect(live.streamedText().startsWith(deltas)).toBe(true);
    expect(JSON.stringify(state.values)).not.toContain("calling the model");

    await continueAndCheck(rig, threadId, { run: customRun });
  });
});
