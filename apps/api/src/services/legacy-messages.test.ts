import type { JournalEntry } from "@runline/journal";
import type { LegacyMessage } from "./legacy-message-accumulator";
import { withLegacyMessages } from "./legacy-messages";

/** A journal of one streamed AI message of `tokens` chunks (ids `1-0`, `2-0`, …), like the story model's. */
function journal(tokens: number): JournalEntry[] {
  return Array.from({ length: tokens }, (_, i) => ({
    id: `${i + 1}-0`,
    event: "messages",
    dataJson: JSON.stringify([
      { id: "ai-1", type: "AIMessageChunk", content: `word${i} "q" `, tool_call_chunks: [], additional_kwargs: {}, response_metadata: i === tokens - 1 ? { finish_reason: "stop" } : {} },
      { langgraph_node: "model" },
    ]),
  }));
}

async function* replay(entries: JournalEntry[]): AsyncGenerator<JournalEntry> {
  yield* entries;
}

/** Runs the legacy mode over the journal; returns its frames and the serialising work it did. */
async function derive(entries: JournalEntry[], lastEventId?: string) {
  const messages = new Map<string, LegacyMessage>();
  const frames: JournalEntry[] = [];
  for await (const frame of withLegacyMessages(replay(entries), lastEventId, messages)) frames.push(frame);
  const work = [...messages.values()].reduce((n, m) => n + m.stringifiedChars, 0);
  return { frames, work, partials: frames.filter((f) => f.event === "messages/partial").map((f) => JSON.parse(f.dataJson)[0]) };
}

describe("legacy messages mode", () => {
  it("sends the message accumulated so far on every token, escaped correctly, with metadata once", async () => {
    const { frames, partials } = await derive(journal(3));
    expect(frames.filter((f) => f.event === "messages/metadata")).toHaveLength(1);
    expect(partials.map((p) => p.content)).toEqual(['word0 "q" ', 'word0 "q" word1 "q" ', 'word0 "q" word1 "q" word2 "q" ']);
    expect(partials[2]).toMatchObject({ id: "ai-1", type: "AIMessageChunk", tool_call_chunks: [], response_metadata: { finish_reason: "stop" } });
  });

  it("keeps list content and tool-call chunks as LangChain concatenates them", async () => {
    const chunk = (content: unknown, tool_call_chunks: unknown[] = []) => ({ id: "m", content, tool_call_chunks });
    const entries = [chunk("a"), chunk([{ type: "text", text: "b" }]), chunk("c", [{ name: "f", args: "{" }]), chunk("", [{ args: "}" }])].map(
      (c, i) => ({ id: `${i + 1}-0`, event: "messages", dataJson: JSON.stringify([c, {}]) }),
    );
    const { partials } = await derive(entries);
    expect(partials[3].content).toEqual([{ type: "text", text: "a" }, { type: "text", text: "b" }, { type: "text", text: "c" }]);
    expect(partials[3].tool_call_chunks).toEqual([{ name: "f", args: "{" }, { args: "}" }]);
  });

  // Work is counted, not timed: characters passed through JSON.stringify, which was the O(n²) part.
  it("does linear work in the message's length, while the frames it sends grow quadratically", async () => {
    const small = await derive(journal(1000));
    const large = await derive(journal(2000));
    expect(large.work / small.work).toBeLessThan(2.2);
    const sent = (r: { frames: JournalEntry[] }) => r.frames.reduce((n, f) => n + f.dataJson.length, 0);
    expect(sent(large) / sent(small)).toBeGreaterThan(3.5);
  });

  it("resumes mid-message with the same frames as a full replay, without serialising the frames it skips", async () => {
    const entries = journal(2000);
    const full = await derive(entries);
    const resumed = await derive(entries, "1990-0");
    expect(resumed.frames.map((f) => f.dataJson)).toEqual(full.frames.slice(-20).map((f) => f.dataJson));
    // What the skipped 1990 tokens cost is folding their text in, not 1990 frames of a growing message.
    const skippedFrames = full.frames.slice(0, -20).reduce((n, f) => n + f.dataJson.length, 0);
    expect(resumed.work).toBeLessThan(skippedFrames / 100);
  });
});
