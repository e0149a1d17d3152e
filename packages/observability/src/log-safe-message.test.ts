import { logSafeMessage, logSafeStack } from "./log-safe-message";

describe("logSafeMessage", () => {
  it("cuts a LangChain coercion error where it starts quoting the message", () => {
    const message = 'Unable to coerce message from array: only human, AI, system, or tool message coercion is currently supported.\n\nReceived: {"role":"wizard","content":"secret"}';
    expect(logSafeMessage(message)).toBe("Unable to coerce message from array: only human, AI, system, or tool message coercion is currently supported. […]");
  });

  it("keeps our own messages whole, and caps long ones", () => {
    expect(logSafeMessage("run exceeded its output limit of 20000 bytes")).toBe("run exceeded its output limit of 20000 bytes");
    expect(logSafeMessage("x".repeat(500))).toBe(`${"x".repeat(200)} […]`);
  });

  it("rebuilds a stack's first line from the safe message and keeps the frames", () => {
    const err = new Error('bad value {"content":"secret"}');
    const stack = logSafeStack(err)!;
    expect(stack.startsWith("Error: bad value […]\n    at ")).toBe(true);
    expect(stack).not.toContain("secret");
  });
});
