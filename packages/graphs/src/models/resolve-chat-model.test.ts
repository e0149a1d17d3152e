import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { CHAT_MODEL_CONTEXT_KEY, readModelOverrides, resolveChatModel } from "./resolve-chat-model";
import { StoryChatModel } from "./story-chat-model";

describe("readModelOverrides", () => {
  it("takes valid numbers", () => {
    expect(readModelOverrides({ story_tokens: 7, story_token_delay_ms: 0 })).toEqual({ tokens: 7, delayMs: 0 });
  });

  it.each([
    ["a string", "7", "5"],
    ["zero tokens / negative delay", 0, -1],
    ["non-integer tokens / NaN delay", 2.5, Number.NaN],
    ["too large", 1e9, 1e9],
  ])("ignores %s", (_label, tokens, delay) => {
    expect(readModelOverrides({ story_tokens: tokens, story_token_delay_ms: delay })).toEqual({});
  });

  it("copes with no configurable", () => {
    expect(readModelOverrides(undefined)).toEqual({});
  });
});

describe("resolveChatModel", () => {
  it("uses the factory from the runtime context, with the run's overrides", () => {
    const factory = jest.fn(() => new StoryChatModel({ tokens: 3, delayMs: 0 }));
    const config: LangGraphRunnableConfig = {
      context: { [CHAT_MODEL_CONTEXT_KEY]: factory },
      configurable: { story_tokens: 5 },
    };
    const model = resolveChatModel(config);
    expect(factory).toHaveBeenCalledWith({ tokens: 5 });
    expect(model).toBeInstanceOf(StoryChatModel);
  });

  it("falls back to a 200-token, 10 ms story model without a factory", () => {
    const model = resolveChatModel({}) as StoryChatModel;
    expect([model.tokens, model.delayMs]).toEqual([200, 10]);
    const tuned = resolveChatModel({ configurable: { story_tokens: 4, story_token_delay_ms: 1 } }) as StoryChatModel;
    expect([tuned.tokens, tuned.delayMs]).toEqual([4, 1]);
  });
});
