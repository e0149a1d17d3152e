import { AIMessage, AIMessageChunk, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { StoryChatModel } from "./story-chat-model";

const prompt = (text = "Tell me a story"): BaseMessage[] => [new HumanMessage(text)];

async function streamChunks(model: StoryChatModel, messages: BaseMessage[], signal?: AbortSignal) {
  const chunks: AIMessageChunk[] = [];
  for await (const chunk of await model.stream(messages, { signal })) chunks.push(chunk);
  return chunks;
}

const joined = (chunks: AIMessageChunk[]) => chunks.map((c) => c.content).join("");

describe("StoryChatModel streaming", () => {
  it("streams exactly `tokens` one-word chunks sharing one run id", async () => {
    const chunks = await streamChunks(new StoryChatModel({ tokens: 12, delayMs: 0 }), prompt());

    expect(chunks).toHaveLength(12);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]!.id).toMatch(/^run-/);
    chunks.forEach((c, i) => expect(c.content).toMatch(i === 0 ? /^\S+$/ : /^ \S+$/));
  });

  it("is deterministic: the same input gives the same text, and invoke equals the concatenated stream", async () => {
    const model = new StoryChatModel({ tokens: 30, delayMs: 0 });
    const first = joined(await streamChunks(model, prompt()));
    const second = joined(await streamChunks(model, prompt()));
    const invoked = await model.invoke(prompt());

    expect(second).toBe(first);
    expect(invoked.content).toBe(first);
    expect(first.split(" ")).toHaveLength(30);
  });

  it("varies the story words with the last human message", async () => {
    const model = new StoryChatModel({ tokens: 20, delayMs: 0 });
    const a = (await model.invoke(prompt("a story about foxes"))).content;
    const b = (await model.invoke(prompt("a story about boats"))).content;
    expect(a).not.toBe(b);
  });

  it("reports every token to callbacks with the streamed chunk", async () => {
    const seen: Array<{ token: string; id: string | undefined }> = [];
    const handler = {
      handleLLMNewToken(token: string, _idx: unknown, _runId: string, _parent?: string, _tags?: string[], fields?: { chunk?: unknown }) {
        const chunk = fields?.chunk as { message?: BaseMessage } | undefined;
        seen.push({ token, id: chunk?.message?.id });
      },
    };
    const result = await new StoryChatModel({ tokens: 6, delayMs: 0 }).invoke(prompt(), { callbacks: [handler] });

    expect(seen.map((s) => s.token).join("")).toBe(result.content);
    expect(seen.every((s) => s.id === result.id)).toBe(true);
  });

  it("puts usage and finish reason on the last chunk only", async () => {
    const chunks = await streamChunks(new StoryChatModel({ tokens: 4, delayMs: 0 }), prompt("one two three"));
    expect(chunks[2]!.usage_metadata).toBeUndefined();
    expect(chunks[3]!.usage_metadata).toEqual({ input_tokens: 3, output_tokens: 4, total_tokens: 7 });
    expect(chunks[3]!.response_metadata).toMatchObject({ finish_reason: "stop", model_name: "runline-story" });
  });

  it("rejects invalid options", () => {
    expect(() => new StoryChatModel({ tokens: 0, delayMs: 0 })).toThrow(RangeError);
    expect(() => new StoryChatModel({ tokens: 1.5, delayMs: 0 })).toThrow(RangeError);
    expect(() => new StoryChatModel({ tokens: 1, delayMs: -1 })).toThrow(RangeError);
  });
});

describe("StoryChatModel abort", () => {
  afterEach(() => jest.useRealTimers());

  it("rejects mid-delay with the signal's reason and leaves no timer behind", async () => {
    jest.useFakeTimers();
    const model = new StoryChatModel({ tokens: 10, delayMs: 1_000 });
    const controller = new AbortController();
    const received: string[] = [];
    const consuming = (async () => {
      for await (const chunk of await model.stream(prompt(), { signal: controller.signal })) received.push(chunk.text);
    })();
    consuming.catch(() => undefined); // observed below; avoids an unhandled-rejection warning meanwhile

    await jest.advanceTimersByTimeAsync(2_500); // two delays elapse, the third is pending
    expect(received).toHaveLength(2);
    const reason = new Error("user pressed stop");
    controller.abort(reason);

    await expect(consuming).rejects.toBe(reason);
    expect(received).toHaveLength(2);
    expect(jest.getTimerCount()).toBe(0);
  });

  it("aborts invoke (the non-streaming path) mid-delay with an AbortError", async () => {
    // A 60 s delay: if the abort did not cut it short, the test would time out instead of passing.
    const model = new StoryChatModel({ tokens: 5, delayMs: 60_000 });
    const controller = new AbortController();
    const pending = model.invoke(prompt(), { signal: controller.signal });
    setImmediate(() => controller.abort());

    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });

  it("does not start when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const model = new StoryChatModel({ tokens: 3, delayMs: 0 });
    // LangChain itself may refuse first (it throws its own "Aborted" error), so only the rejection is asserted.
    await expect(streamChunks(model, prompt(), controller.signal)).rejects.toThrow();
  });
});

describe("StoryChatModel preamble", () => {
  const textOf = async (messages: BaseMessage[], tokens = 40) =>
    String((await new StoryChatModel({ tokens, delayMs: 0 }).invoke(messages)).content);

  it("says when there is no earlier assistant text", async () => {
    expect(await textOf(prompt())).toMatch(/^\[story: saw 1 messages; no earlier assistant text\] \S/);
  });

  it("counts messages and earlier assistant words and quotes the last five words of the latest one", async () => {
    const messages = [
      new HumanMessage("Tell me a story"),
      new AIMessage("one two three four five six seven"),
      new HumanMessage("Please continue"),
      // Content arrays count too: their text parts are joined, other parts ignored.
      new AIMessage({
        content: [
          { type: "text", text: "alpha beta" },
          { type: "image_url", image_url: "data:," },
          { type: "text", text: "gamma delta epsilon zeta" },
        ],
      }),
      new HumanMessage("More please"),
    ];

    expect(await textOf(messages)).toMatch(
      /^\[story: saw 5 messages; 2 earlier assistant messages with 13 words; continuing after "beta gamma delta epsilon zeta"\] \S/,
    );
  });

  it("counts the preamble words as tokens and truncates it when tokens are fewer", async () => {
    expect(await textOf(prompt(), 3)).toBe("[story: saw 1");
    expect((await textOf(prompt(), 9)).split(" ")).toHaveLength(9);
  });
});
