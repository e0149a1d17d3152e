import { findUnsafeValue, jsonDepthOffset, stringProblem } from "./json-guard";

const bytes = (s: string) => Buffer.from(s, "utf8");

describe("jsonDepthOffset", () => {
  it("finds where nesting passes the bound, and only there", () => {
    expect(jsonDepthOffset(bytes('{"a":[[1]]}'), 3)).toBe(-1);
    expect(jsonDepthOffset(bytes('{"a":[[[1]]]}'), 3)).toBe(7);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    expect(jsonDepthOffset(bytes(`{"a":"[[[[\\"[[[["}`), 1)).toBe(-1);
    expect(jsonDepthOffset(bytes(`{"a":"\\\\"}`), 1)).toBe(-1); // an escaped backslash ends with the string
  });

  it("scans a 10,000-deep document in a loop (no stack)", () => {
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    expect(jsonDepthOffset(bytes(deep), 64)).toBe(64);
  });
});

describe("findUnsafeValue", () => {
  it("names the path of a NUL in a value or a key", () => {
    expect(findUnsafeValue({ metadata: { notes: ["ok", "a\u0000b"] } })).toEqual({ path: "metadata.notes.1", problem: expect.stringContaining("NUL") });
    expect(findUnsafeValue({ metadata: { "k\u0000": 1 } })?.path).toBe("metadata.k\\u0000");
  });

  it("refuses lone surrogates but not pairs", () => {
    expect(stringProblem("\ud83d\ude00")).toBeNull();
    expect(stringProblem("x\ud800")).toMatch(/surrogate/);
    expect(stringProblem("\udc00y")).toMatch(/surrogate/);
    expect(findUnsafeValue({ input: { messages: [{ content: "\udfff" }] } })?.path).toBe("input.messages.0.content");
  });

  it("refuses numbers that are not finite", () => {
    expect(findUnsafeValue(JSON.parse('{"after_seconds": 1e400}'))).toEqual({ path: "after_seconds", problem: "is not a finite number" });
  });

  it("walks very deep values without recursion, and accepts clean ones", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 50_000; i++) deep = [deep];
    expect(findUnsafeValue(deep)).toBeNull();
    expect(findUnsafeValue({ a: [1, "two", { three: null, four: true }] })).toBeNull();
  });

  it("prefixes paths with the root it is given", () => {
    expect(findUnsafeValue({ before: "\u0000" }, "query")?.path).toBe("query.before");
    expect(findUnsafeValue("\u0000")?.path).toBe("(body)");
  });
});
