import { AIMessageChunk } from "@langchain/core/messages";
import { MERGE_AT, PartialCollector } from "./partial-collector";
import { buildPartialMessage } from "./partial-message";

describe("PartialCollector", () => {
  it("keeps a long message as a few merged chunks that give the same partial as all of them", () => {
    const count = MERGE_AT * 3 + 5;
    const chunks = Array.from({ length: count }, (_, i) =>
      new AIMessageChunk({
        id: "run-1",
        content: ` w${i}`,
        // A tool call streamed across the merge boundary, and the usage on the last chunk, as providers send them.
        tool_call_chunks: i === MERGE_AT - 1 ? [{ id: "call_1", name: "search", args: '{"q": "li', index: 0, type: "tool_call_chunk" }] : i === MERGE_AT ? [{ args: 'ght"}', index: 0, type: "tool_call_chunk" }] : [],
        ...(i === count - 1 ? { usage_metadata: { input_tokens: 3, output_tokens: count, total_tokens: count + 3 } } : {}),
      }),
    );
    const collector = new PartialCollector();
    for (const chunk of chunks) collector.add(chunk, { langgraph_node: "llm" });

    const [streamed] = collector.inFlight();
    expect(streamed!.tokens).toBe(count);
    expect(streamed!.chunks.length).toBeLessThan(MERGE_AT);
    expect(collector.tokenCount()).toBe(count);
    const marker = { run_id: "r1", action: "interrupt", reason: "cancel" } as const;
    const merged = buildPartialMessage(streamed!, marker);
    const unmerged = buildPartialMessage({ id: "run-1", node: "llm", chunks }, marker);
    expect(merged.toDict()).toEqual(unmerged.toDict());
    expect(merged.content).toBe(chunks.map((c) => c.content).join(""));
    expect((merged.response_metadata.runline_partial as { token_count: number }).token_count).toBe(count);
    expect(merged.additional_kwargs.runline_dropped_tool_calls).toEqual([{ id: "call_1", name: "search", args: '{"q": "light"}' }]);
  });

  it("leaves chunks it cannot concatenate as they are, and goes on collecting", () => {
    const collector = new PartialCollector();
    for (let i = 0; i < MERGE_AT + 2; i++) collector.add({ id: "m-1", content: String(i) }, { langgraph_node: "llm" });
    // Fields of the same name with different types: LangChain's concat throws; the stream must not.
    const clash = (i: number) => new AIMessageChunk({ id: "m-2", content: "x", additional_kwargs: { extra: i % 2 ? "text" : { nested: true } } as never });
    for (let i = 0; i < MERGE_AT + 2; i++) expect(() => collector.add(clash(i), { langgraph_node: "llm" })).not.toThrow();
    const [plain, clashing] = collector.inFlight();
    expect(plain!.chunks.length).toBe(MERGE_AT + 2);
    expect(plain!.tokens).toBe(MERGE_AT + 2);
    expect(clashing!.chunks.length).toBe(MERGE_AT + 2);
    expect(clashing!.tokens).toBe(MERGE_AT + 2);
  });
});
