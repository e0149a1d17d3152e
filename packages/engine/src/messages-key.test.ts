import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { messagesKeyOf } from "./messages-key";

describe("messagesKeyOf", () => {
  it("prefers `messages`, else the one key holding messages, else none", () => {
    expect(messagesKeyOf({ messages: [], chat: [new HumanMessage("hi")] })).toBe("messages");
    expect(messagesKeyOf({ chat: [new HumanMessage("hi")], notes: ["a"] })).toBe("chat");
    expect(messagesKeyOf({ a: [new HumanMessage("x")], b: [new AIMessage("y")] })).toBeNull();
    expect(messagesKeyOf({ notes: ["a"] })).toBeNull();
    expect(messagesKeyOf(null)).toBeNull();
  });
});
