import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { StoryChatModel } from "@runline/graphs";
import { EncodedJson, encodeEventData } from "@runline/core";
import { messagesEventData, messageToWire, metadataToWire, toWire } from "./wire-format";

async function collectChunks(): Promise<BaseMessage[]> {
  const chunks: BaseMessage[] = [];
  for await (const chunk of await new StoryChatModel({ tokens: 3, delayMs: 0 }).stream([new HumanMessage("a story")])) chunks.push(chunk);
  return chunks;
}

/** What the LangGraph server sends: LangChain's own `toDict()` data plus the base type. */
function reference(message: BaseMessage) {
  return JSON.parse(JSON.stringify({ ...message.toDict().data, type: message.getType() }));
}

describe("messageToWire", () => {
  it("gives exactly what toDict() gives, for streamed chunks and every kind of message", async () => {
    const chunks: BaseMessage[] = [];
    for await (const chunk of await new StoryChatModel({ tokens: 30, delayMs: 0 }).stream([new HumanMessage("a story")])) chunks.push(chunk);
    const others: BaseMessage[] = [
      new AIMessage({ content: "hello", id: "a1", tool_calls: [{ id: "t1", name: "f", args: { a: 1 } }] }),
      new AIMessageChunk({ content: "", id: "c1", tool_call_chunks: [{ id: "t1", name: "f", args: '{"a":', index: 0 }] }),
      new AIMessageChunk({ content: [{ type: "text", text: "part" }], id: "c2" }),
      new HumanMessage({ content: "hi", id: "h1", name: "bob" }),
      new SystemMessage("be brief"),
      new ToolMessage({ content: "r", tool_call_id: "t1", id: "tm", artifact: { big: true } }),
      new AIMessage({ content: "escaped", response_metadata: { lc: 1, type: "constructor" } }),
      new AIMessage({ content: "x", additional_kwargs: { function_call: { name: "f", arguments: "{}" } } }),
    ];
    for (const message of [...chunks, ...others]) {
      expect(JSON.parse(JSON.stringify(messageToWire(message)))).toEqual(reference(message));
    }
    expect(messageToWire(chunks[0]).type).toBe("ai");
  });

  it("converts messages nested in state values", () => {
    const wire = toWire({ messages: [new HumanMessage({ content: "hi", id: "h" })], count: 2 }) as any;
    expect(wire).toEqual({ messages: [{ content: "hi", id: "h", additional_kwargs: {}, response_metadata: {}, type: "human" }], count: 2 });
  });

  it("drops LangGraph's private metadata keys, converting each metadata object once", () => {
    const metadata = { langgraph_node: "llm", __pregel_task_id: "x", run_id: "r" };
    const wire = metadataToWire(metadata);
    expect(wire).toEqual({ langgraph_node: "llm", run_id: "r" });
    expect(metadataToWire(metadata)).toBe(wire);
  });

  it("encodes a messages event as [chunk, metadata] in wire form, the same JSON as encoding the pair", async () => {
    const chunks = await collectChunks();
    const metadata = { langgraph_node: "llm", __pregel_task_id: "x", tags: ["a"], thread_id: "t" };
    const first = messagesEventData(chunks[0], metadata);
    expect(first).toBeInstanceOf(EncodedJson);
    expect(first.json).toBe(JSON.stringify([toWire(chunks[0]), metadataToWire(metadata)]));
    expect(messagesEventData(chunks[1], metadata).json).toBe(JSON.stringify([toWire(chunks[1]), metadataToWire(metadata)]));
    expect(encodeEventData(first)).toBe(first.json);
  });
});
