import { AIMessageChunk } from "@langchain/core/messages";
import { buildPartialMessage } from "./partial-message";

describe("buildPartialMessage", () => {
  it("concatenates the chunks under their id and marks the message as a cancelled partial", () => {
    const chunks = ["Once", " upon", " a"].map((content) => new AIMessageChunk({ id: "run-1", content }));
    const message = buildPartialMessage({ id: "run-1", node: "llm", chunks }, { run_id: "r1", action: "interrupt", reason: "cancel" });
    expect(message.id).toBe("run-1");
    expect(message.content).toBe("Once upon a");
    expect(message.response_metadata.runline_partial).toEqual({ cancelled: true, run_id: "r1", token_count: 3, action: "interrupt", reason: "cancel" });
  });

  it("drops tool calls a cut stream left behind (half-streamed arguments), keeping them visible as dropped", () => {
    const chunks = [
      new AIMessageChunk({ id: "run-2", content: "Let me look", tool_call_chunks: [{ id: "call_1", name: "search", args: '{"query": "lig', index: 0, type: "tool_call_chunk" }] }),
      new AIMessageChunk({ id: "run-2", content: "", tool_call_chunks: [{ args: 'hthouse"', index: 0, type: "tool_call_chunk" }] }),
    ];
    const message = buildPartialMessage({ id: "run-2", node: "agent", chunks }, { run_id: "r2", action: "interrupt", reason: "cancel" });
    expect(message.tool_calls ?? []).toEqual([]);
    expect(message.invalid_tool_calls ?? []).toEqual([]);
    expect(message.additional_kwargs.runline_dropped_tool_calls).toEqual([{ id: "call_1", name: "search", args: '{"query": "lighthouse"' }]);
    expect(message.content).toBe("Let me look");
  });
});
