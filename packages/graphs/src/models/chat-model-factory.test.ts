import { ChatOpenAI } from "@langchain/openai";
import { createChatModelFactory } from "./chat-model-factory";
import { StoryChatModel } from "./story-chat-model";

describe("createChatModelFactory", () => {
  it("builds story models from settings, overrides winning", () => {
    const factory = createChatModelFactory({ provider: "story", story: { tokens: 50, delayMs: 20 } });
    const plain = factory() as StoryChatModel;
    const tuned = factory({ tokens: 3, model: "ignored" }) as StoryChatModel;
    expect([plain.tokens, plain.delayMs]).toEqual([50, 20]);
    expect([tuned.tokens, tuned.delayMs]).toEqual([3, 20]);
  });

  it("builds a streaming ChatOpenAI for openai settings (no request is made)", () => {
    const factory = createChatModelFactory({
      provider: "openai",
      openai: { baseURL: "http://127.0.0.1:1/v1", model: "gpt-4o-mini" },
      story: { tokens: 50, delayMs: 20 },
    });
    const model = factory({ model: "local-llama", tokens: 3 }) as ChatOpenAI;
    expect(model).toBeInstanceOf(ChatOpenAI);
    expect(model.model).toBe("local-llama");
    expect(model.streaming).toBe(true);
    expect(model.clientConfig.baseURL).toBe("http://127.0.0.1:1/v1");
    expect(model.apiKey).toBeTruthy(); // placeholder: local servers take no key, the client insists on one
  });
});
