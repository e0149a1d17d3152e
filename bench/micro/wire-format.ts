// Micro-benchmark for a proposed fast path in packages/engine/src/wire-format.ts (messageToWire), which the
// Foundation CPU profile shows spending ~6% of Runline's busy CPU inside LangChain's `toDict()`/`toJSON()`.
// Checks the candidate gives the same JSON as today's messageToWire on real story chunks and on other message
// kinds (or declines and falls back), then times both.   Run: npx tsx bench/micro/wire-format.ts
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { messageToWire } from "@runline/engine";
import { StoryChatModel } from "@runline/graphs";

const SNAKE_KEY = /^[a-z][a-z0-9_]*$/;

/**
 * The candidate: the constructor fields LangChain would serialise (the keys of `lc_kwargs`, values read from the
 * instance as `toJSON` does), without `toJSON`'s prototype walk for aliases/secrets, key re-casing and deep
 * escaping. Declines (null → caller uses toDict) whenever those passes could change the result: a key that is
 * not snake_case (would be re-cased), a class with secrets/attributes, or a top-level object value that looks
 * like a serialised LangChain object (would be escaped).
 */
export function fastMessageFields(message: BaseMessage): Record<string, unknown> | null {
  const kwargs = (message as unknown as { lc_kwargs?: Record<string, unknown> }).lc_kwargs;
  if (!kwargs || typeof kwargs !== "object" || Array.isArray(kwargs)) return null;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(kwargs)) {
    if (!SNAKE_KEY.test(key)) return null;
    const value = key in message ? (message as unknown as Record<string, unknown>)[key] : kwargs[key];
    if (value !== null && typeof value === "object" && !Array.isArray(value) && ("lc" in value || "__lc_escaped__" in value)) return null;
    out[key] = value;
  }
  return out;
}

function candidateToWire(message: BaseMessage): Record<string, unknown> {
  const fields = fastMessageFields(message);
  if (!fields) return messageToWire(message as never);
  return { ...fields, type: message.getType() };
}

/** Real chunks as the story model streams them (200 tokens; the last one carries usage and finish reason). */
async function storyChunks(): Promise<AIMessageChunk[]> {
  const chunks: AIMessageChunk[] = [];
  const model = new StoryChatModel({ tokens: 200, delayMs: 0 });
  for await (const chunk of await model.stream([new HumanMessage("Tell me a story about a benchmark")])) chunks.push(chunk);
  return chunks;
}

function otherMessages(): BaseMessage[] {
  return [
    new AIMessage({ content: "hello", id: "a1", tool_calls: [{ id: "t1", name: "f", args: { a: 1 } }] }),
    new AIMessageChunk({ content: "", id: "c1", tool_call_chunks: [{ id: "t1", name: "f", args: '{"a":', index: 0 }] }),
    new AIMessageChunk({ content: [{ type: "text", text: "part" }], id: "c2" }),
    new HumanMessage({ content: "hi", id: "h1", name: "bob" }),
    new SystemMessage("be brief"),
    new ToolMessage({ content: "r", tool_call_id: "t1", id: "tm", artifact: { big: true } }),
    new AIMessage({ content: "meta", response_metadata: { lc: 1, type: "constructor" } }), // must decline (escaping)
    new AIMessage({ content: "x", additional_kwargs: { function_call: { name: "f", arguments: "{}" } } }),
  ];
}

const json = (v: unknown) => JSON.parse(JSON.stringify(v));

function time(label: string, messages: BaseMessage[], fn: (m: BaseMessage) => unknown, rounds: number): number {
  for (let r = 0; r < 3; r++) for (const m of messages) fn(m); // warm-up
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const m of messages) fn(m);
  const nsPerOp = ((performance.now() - start) * 1e6) / (rounds * messages.length);
  console.log(`${label.padEnd(34)} ${nsPerOp.toFixed(0).padStart(7)} ns/message`);
  return nsPerOp;
}

async function main() {
  const chunks = await storyChunks();
  const all: BaseMessage[] = [...chunks, ...otherMessages()];
  let declined = 0;
  let sameBytes = 0;
  for (const m of all) {
    if (!fastMessageFields(m)) declined++;
    assert.deepEqual(json(candidateToWire(m)), json(messageToWire(m as never)), `differs for ${m.constructor.name} ${JSON.stringify(m.content)}`);
    if (JSON.stringify(candidateToWire(m)) === JSON.stringify(messageToWire(m as never))) sameBytes++;
  }
  console.log(`same JSON value for all ${all.length} messages, byte-identical (same key order) for ${sameBytes}; ${declined} declined the fast path`);
  const current = time("messageToWire (toDict)", chunks, (m) => messageToWire(m as never), 200);
  const fast = time("candidate fast path", chunks, candidateToWire, 200);
  console.log(`speed-up on story chunks: ${(current / fast).toFixed(1)}× (${((current - fast) / 1000).toFixed(1)} µs saved per token)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
