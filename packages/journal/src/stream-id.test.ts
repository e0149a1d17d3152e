import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { decodeLiveMessage } from "./entry";
import { EntryQueue } from "./entry-queue";
import { compareStreamIds, isStreamId, normaliseLastEventId } from "./stream-id";

describe("compareStreamIds", () => {
  it.each([
    ["999-0", "1000-0", -1], // a string comparison gets this one wrong
    ["1000-9", "1000-10", -1],
    ["1000-10", "1000-10", 0],
    ["1732712345678-1", "1732712345678-0", 1],
    ["18446744073709551615-18446744073709551615", "18446744073709551615-18446744073709551614", 1], // past 2^53
    ["5", "5-0", 0],
    ["5", "5-1", -1],
  ])("%s vs %s → %d", (a, b, expected) => {
    expect(Math.sign(compareStreamIds(a, b))).toBe(expected);
    expect(Math.sign(compareStreamIds(b, a))).toBe(-expected || 0);
  });
});

describe("normaliseLastEventId", () => {
  it.each([undefined, null, "", "  ", "-1", "-", "0", "0-0", "000-00"])("treats %p as from the start", (id) => {
    expect(normaliseLastEventId(id)).toBeUndefined();
  });

  it("completes and canonicalises ids", () => {
    expect(normaliseLastEventId("1732712345678")).toBe("1732712345678-0");
    expect(normaliseLastEventId(" 0012-003 ")).toBe("12-3");
  });

  it.each(["abc", "1-2-3", "-5", "1.5-0", "1-", "123456789012345678901-0"])("rejects %p with a 400", (id) => {
    expect(isStreamId(id)).toBe(false);
    expect(() => normaliseLastEventId(id)).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED", status: 400 }));
  });
});

describe("decodeLiveMessage", () => {
  it("splits on the first two newlines only, so JSON text keeps its own", () => {
    expect(decodeLiveMessage('1-0\nmessages\n{"a":"x\\ny"}\n')).toEqual({ id: "1-0", event: "messages", dataJson: '{"a":"x\\ny"}\n' });
    expect(decodeLiveMessage("1-0\nend")).toBeUndefined();
  });
});

describe("EntryQueue", () => {
  it("is FIFO across compaction and clear", () => {
    const q = new EntryQueue();
    const entry = (n: number) => ({ id: `${n}-0`, event: "values", dataJson: String(n) });
    for (let n = 0; n < 5000; n++) q.push(entry(n));
    for (let n = 0; n < 3000; n++) expect(q.shift()!.id).toBe(`${n}-0`);
    expect(q.size).toBe(2000);
    q.push(entry(5000));
    for (let n = 3000; n <= 5000; n++) expect(q.shift()!.id).toBe(`${n}-0`);
    expect(q.shift()).toBeUndefined();
    q.push(entry(1));
    q.clear();
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it("lets go of an entry once it was shifted, before any compaction", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const q = new EntryQueue();
    const refs: WeakRef<object>[] = [];
    for (let n = 0; n < 10; n++) {
      const entry = { id: `${n}-0`, event: "values", dataJson: "x".repeat(1000) };
      refs.push(new WeakRef(entry));
      q.push(entry);
    }
    for (let n = 0; n < 5; n++) q.shift();
    // WeakRef targets are kept until the end of the current job: collect after a turn.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(refs.map((r) => r.deref() !== undefined)).toEqual([false, false, false, false, false, true, true, true, true, true]);
  });
});
