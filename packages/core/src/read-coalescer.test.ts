import { ReadCoalescer } from "./read-coalescer";

describe("ReadCoalescer", () => {
  it("shares one call among the callers of one key in one turn, made after all of them asked", async () => {
    const coalescer = new ReadCoalescer<number>();
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
    const coalescer = new ReadCoalescer<number>();
    let calls = 0;
    let release!: () => void;
    const first = coalescer.run("k", () => new Promise<number>((resolve) => (release = () => resolve(++calls))));
    await new Promise((resolve) => setImmediate(resolve)); // the first call is under way now
    const second = coalescer.run("k", async () => ++calls + 100);
    release();
    expect(await first).toBe(1);
    expect(await second).toBe(102);
  });

  it("has one call per key under way at a time: callers who ask meanwhile share the next, made when it settles", async () => {
    const coalescer = new ReadCoalescer<string>();
    const started: string[] = [];
    const releases: Array<() => void> = [];
    const fn = (name: string) => () => {
      started.push(name);
      return new Promise<string>((resolve) => releases.push(() => resolve(name)));
    };
    const first = coalescer.run("k", fn("first"));
    await new Promise((resolve) => setImmediate(resolve)); // the first call is under way
    // Asked over several turns while it runs: not one of them may get the first call's (older) answer.
    const later = [coalescer.run("k", fn("second"))];
    await new Promise((resolve) => setImmediate(resolve));
    later.push(coalescer.run("k", fn("third")));
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(["first"]);
    releases.shift()!();
    expect(await first).toBe("first");
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(["first", "second"]); // one shared call for both, after the first settled
    releases.shift()!();
    expect(await Promise.all(later)).toEqual(["second", "second"]);
    // Nothing left behind: the next caller starts afresh on the next turn.
    const after = coalescer.run("k", async () => "fresh");
    expect(await after).toBe("fresh");
  });

  it("goes on with the next batch after a failed call, and a throwing fn rejects only its batch", async () => {
    const coalescer = new ReadCoalescer<number>();
    let reject!: (err: Error) => void;
    const failing = coalescer.run("k", () => new Promise<number>((_, r) => (reject = r)));
    await new Promise((resolve) => setImmediate(resolve));
    const next = coalescer.run("k", async () => 2);
    reject(new Error("down"));
    await expect(failing).rejects.toThrow("down");
    expect(await next).toBe(2);
    const thrown = coalescer.run("k", () => {
      throw new Error("sync");
    });
    await expect(thrown).rejects.toThrow("sync");
    expect(await coalescer.run("k", async () => 3)).toBe(3);
  });

  it("does not hold later callers behind a call that hangs: theirs starts after maxWaitMs, and the key is freed once both settle", async () => {
    const coalescer = new ReadCoalescer<string>({ maxWaitMs: 30 });
    let releaseStuck!: () => void;
    const stuck = coalescer.run("k", () => new Promise<string>((resolve) => (releaseStuck = () => resolve("stuck"))));
    await new Promise((resolve) => setImmediate(resolve));
    const started = Date.now();
    const later = await coalescer.run("k", async () => "later");
    expect(later).toBe("later");
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    releaseStuck();
    expect(await stuck).toBe("stuck");
    expect((coalescer as unknown as { keys: Map<string, unknown> }).keys.size).toBe(0);
  });

  it("settles a batch whose fn returns a plain value", async () => {
    const coalescer = new ReadCoalescer<number>();
    expect(await coalescer.run("k", (() => 7) as unknown as () => Promise<number>)).toBe(7);
    expect(await coalescer.run("k", async () => 8)).toBe(8);
  });

  it("gives every caller of the batch the shared failure", async () => {
    const coalescer = new ReadCoalescer<number>();
    const boom = new Error("boom");
    const calls = [coalescer.run("k", () => Promise.reject(boom)), coalescer.run("k", () => Promise.reject(boom))];
    for (const call of calls) await expect(call).rejects.toBe(boom);
  });
});
