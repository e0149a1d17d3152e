import { TickCoalescer } from "./tick-coalescer";

describe("TickCoalescer", () => {
  it("shares one call among the callers of one key in one turn, made after all of them asked", async () => {
    const coalescer = new TickCoalescer<number>();
    const asked: string[] = [];
    let calls = 0;
    const fn = async () => {
      asked.push("call");
      return ++calls;
    };
    const a = coalescer.run("k", fn);
    asked.push("a");
    const b = coalescer.run("k", fn);
    asked.push("b");
    const other = coalescer.run("other", fn);
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    expect(await other).toBe(2);
    expect(asked.slice(0, 2)).toEqual(["a", "b"]); // nobody got an answer to a question asked before theirs
  });

  it("never hands a later caller a call that already started: the next turn gets its own", async () => {
    const coalescer = new TickCoalescer<number>();
    let calls = 0;
    let release!: () => void;
    const first = coalescer.run("k", () => new Promise<number>((resolve) => (release = () => resolve(++calls))));
    await new Promise((resolve) => setImmediate(resolve)); // the first call is under way now
    const second = coalescer.run("k", async () => ++calls + 100);
    release();
    expect(await first).toBe(1);
    expect(await second).toBe(102);
  });

  it("gives every caller of the batch the shared failure", async () => {
    const coalescer = new TickCoalescer<number>();
    const boom = new Error("boom");
    const calls = [coalescer.run("k", () => Promise.reject(boom)), coalescer.run("k", () => Promise.reject(boom))];
    for (const call of calls) await expect(call).rejects.toBe(boom);
  });
});
