import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { createChatModelFactory, type ChatModelFactory } from "../models/chat-model-factory";
import { CHAT_MODEL_CONTEXT_KEY } from "../models/resolve-chat-model";
import { StoryChatModel } from "../models/story-chat-model";
import { compileStoryGraph } from "./story.graph";

const storyFactory = (tokens: number): ChatModelFactory =>
  createChatModelFactory({ provider: "story", story: { tokens, delayMs: 0 } });

interface RunResult {
  tokens: Array<{ content: string; id: string | undefined; node: unknown }>;
  finalMessages: BaseMessage[];
}

/** Runs the story graph once with `messages` + `values` stream modes and collects both. */
interface RunOptions {
  factory?: ChatModelFactory;
  configurable?: Record<string, unknown>;
  signal?: AbortSignal;
  /** Reuse a compiled graph (and its MemorySaver) across runs of one thread. */
  graph?: ReturnType<typeof compileStoryGraph>;
}

async function runStory(
  threadId: string,
  text: string,
  options: RunOptions = {},
  onToken?: (count: number) => void,
): Promise<RunResult> {
  const graph = options.graph ?? compileStoryGraph(new MemorySaver());
  const result: RunResult = { tokens: [], finalMessages: [] };
  const stream = await graph.stream(
    { messages: [new HumanMessage(text)] },
    {
      streamMode: ["messages", "values"],
      configurable: { thread_id: threadId, ...options.configurable },
      context: options.factory ? { [CHAT_MODEL_CONTEXT_KEY]: options.factory } : undefined,
      signal: options.signal,
    },
  );
  for await (const [mode, payload] of stream) {
    if (mode === "messages") {
      const [chunk, metadata] = payload;
      result.tokens.push({ content: String(chunk.content), id: chunk.id, node: metadata.langgraph_node });
      onToken?.(result.tokens.length);
    } else {
      result.finalMessages = payload.messages;
    }
  }
  return result;
}

describe("story graph", () => {
  it("streams message tuples from node `llm` and ends with the AI message of the same id", async () => {
    const { tokens, finalMessages } = await runStory("t-stream", "Tell me a story", { factory: storyFactory(12) });

    expect(tokens).toHaveLength(12);
    expect(tokens.every((t) => t.node === "llm")).toBe(true);
    const ids = new Set(tokens.map((t) => t.id));
    expect(ids.size).toBe(1);

    const answer = finalMessages.at(-1)!;
    expect(finalMessages).toHaveLength(2);
    expect(answer).toBeInstanceOf(AIMessage);
    expect(answer.id).toBe([...ids][0]);
    expect(answer.content).toBe(tokens.map((t) => t.content).join(""));
  });

  it("uses the factory passed through the runtime context", async () => {
    const factory = jest.fn(() => new StoryChatModel({ tokens: 3, delayMs: 0 }));
    const { tokens } = await runStory("t-factory", "Hi", { factory });

    expect(factory).toHaveBeenCalledTimes(1);
    expect(tokens).toHaveLength(3);
  });

  it("applies story overrides from configurable and ignores invalid ones", async () => {
    const overridden = await runStory("t-over", "Hi", { factory: storyFactory(12), configurable: { story_tokens: 7 } });
    const invalid = await runStory("t-invalid", "Hi", { factory: storyFactory(12), configurable: { story_tokens: "7" } });

    expect(overridden.tokens).toHaveLength(7);
    expect(invalid.tokens).toHaveLength(12);
  });

  it("falls back to the 200-token story model when no factory is in the context", async () => {
    const { tokens } = await runStory("t-fallback", "Hi", { configurable: { story_token_delay_ms: 0 } });
    expect(tokens).toHaveLength(200);
  });

  it("lets the next run on the thread see the earlier answer", async () => {
    const graph = compileStoryGraph(new MemorySaver());
    const first = await runStory("t-continue", "Tell me a story", { factory: storyFactory(20), graph });
    const lastFive = first.tokens.slice(-5).map((t) => t.content.trim()).join(" ");
    const second = await runStory("t-continue", "Please continue", { factory: storyFactory(30), graph });

    const preamble = `[story: saw 3 messages; 1 earlier assistant messages with 20 words; continuing after "${lastFive}"]`;
    const text = second.tokens.map((t) => t.content).join("");
    expect(second.finalMessages).toHaveLength(4);
    expect(text.slice(0, preamble.length)).toBe(preamble);
  });

  it("stops mid-story when the run's signal aborts, leaving the node uncommitted", async () => {
    const graph = compileStoryGraph(new MemorySaver());
    const controller = new AbortController();
    const reason = new Error("cancelled by test");
    let seen = 0;
    const factory = createChatModelFactory({ provider: "story", story: { tokens: 1_000, delayMs: 5 } });
    const run = runStory(
      "t-abort",
      "Tell me a story",
      { factory, signal: controller.signal, graph },
      (count) => {
        seen = count;
        if (count === 3) controller.abort(reason);
      },
    );

    await expect(run).rejects.toBe(reason);
    expect(seen).toBeLessThan(1_000);
    const state = await graph.getState({ configurable: { thread_id: "t-abort" } });
    expect(state.next).toEqual(["llm"]);
  });
});
