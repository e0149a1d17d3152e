import { publicThreadId, threadKey, withPublicThreadId } from "./thread-key";

describe("thread storage keys", () => {
  it("scopes one public id to each tenant, and maps back to it", () => {
    expect(threadKey("alpha", "t1")).not.toBe(threadKey("beta", "t1"));
    expect(publicThreadId(threadKey("alpha", "t1"))).toBe("t1");
    expect(publicThreadId(threadKey("beta", "t1"))).toBe("t1");
  });

  it("keeps a thread id that itself holds the separator whole (ids from before the id check)", () => {
    expect(publicThreadId(threadKey("alpha", "a:b:c"))).toBe("a:b:c");
  });

  it("refuses a tenant id that would make keys ambiguous", () => {
    expect(() => threadKey("a:b", "t1")).toThrow(/cannot scope/);
    expect(() => threadKey("", "t1")).toThrow(/cannot scope/);
  });

  it("returns an id without a separator unchanged", () => {
    expect(publicThreadId("plain")).toBe("plain");
  });

  it("replaces exact copies of the key in a payload, nothing else", () => {
    const key = threadKey("alpha", "t1");
    const payload = { config: { configurable: { thread_id: key, checkpoint_id: "c1" } }, list: [key, `${key}!`], n: 3, none: null };
    expect(withPublicThreadId(payload, key)).toEqual({
      config: { configurable: { thread_id: "t1", checkpoint_id: "c1" } },
      list: ["t1", `${key}!`],
      n: 3,
      none: null,
    });
  });
});
