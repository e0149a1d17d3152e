import Redis from "ioredis";
import { EncodedJson } from "@runline/core";
import { createTestNamespace, startPrivateRedis, waitFor, type TestNamespace } from "@runline/testing";
import type { JournalEntry } from "./entry";
import { createJournalHub, type JournalHub } from "./journal-hub";
import { readRange } from "./journal-reader";
import { createJournalWriter, JournalFencedError, type JournalWriter } from "./journal-writer";
import { journalKeys } from "./keys";
import { collect, describeEntries, strictlyIncreasing } from "./test-support";

let ns: TestNamespace;
let hub: JournalHub;
let writer: JournalWriter;
let runSeq = 0;
const nextRunId = () => `${ns.id}-run-${++runSeq}`;

beforeAll(async () => {
  ns = await createTestNamespace("journal-writer");
  hub = createJournalHub(ns.redis, ns.redisPrefix, { connectionName: `${ns.id}:hub` });
  writer = createJournalWriter(ns.redis, ns.redisPrefix, { retentionSeconds: 120 });
});

afterAll(async () => {
  await hub.close();
  await ns.cleanup();
});

describe("createJournalWriter", () => {
  it("keeps call order for 1000 appends fired without awaiting, in the stream and live", async () => {
    const runId = nextRunId();
    const live: JournalEntry[] = [];
    const unlisten = await hub.listen(runId, (e) => live.push(e));
    const ids: Promise<string>[] = [];
    for (let i = 0; i < 1000; i++) ids.push(writer.append(runId, "messages", { i }));
    await writer.flush(runId);

    const stored = await collect(readRange(ns.redis, ns.redisPrefix, runId));
    const expected = Array.from({ length: 1000 }, (_, i) => `messages:${i}`);
    expect(describeEntries(stored)).toEqual(expected);
    expect(strictlyIncreasing(stored)).toBe(true);
    expect(await Promise.all(ids)).toEqual(stored.map((e) => e.id));
    await waitFor(() => live.length === 1000);
    expect(live).toEqual(stored); // same ids, names and JSON text live as stored
    unlisten();
  });

  it("stores the event name and the data as JSON text", async () => {
    const runId = nextRunId();
    const id = await writer.append(runId, "messages", [{ content: "héllo\nworld" }, { node: "llm" }]);
    const raw = await ns.redis.xrange(journalKeys(ns.redisPrefix).events(runId), "-", "+");
    expect(raw).toEqual([[id, ["e", "messages", "d", '[{"content":"héllo\\nworld"},{"node":"llm"}]']]]);
    await writer.append(runId, "custom", undefined);
    const [, second] = await collect(readRange(ns.redis, ns.redisPrefix, runId));
    expect(second!.dataJson).toBe("null");
    // Data the caller encoded itself (EncodedJson), plain and through an attempt: stored as given.
    await writer.append(runId, "messages", new EncodedJson('[{"content":"a"},{"node":"llm"}]'));
    const attempt = writer.forAttempt(nextRunId(), 1);
    await attempt.claim();
    await attempt.append("messages", new EncodedJson('[{"content":"b"},{}]'));
    expect(attempt.bytesAppended).toBe("messages".length + '[{"content":"b"},{}]'.length);
    const stored = await collect(readRange(ns.redis, ns.redisPrefix, runId));
    expect(stored[2]!.dataJson).toBe('[{"content":"a"},{"node":"llm"}]');
    expect((await collect(readRange(ns.redis, ns.redisPrefix, attempt.runId)))[0]!.dataJson).toBe('[{"content":"b"},{}]');
  });

  it("sets the stream's expiry with end, not before", async () => {
    const runId = nextRunId();
    const key = journalKeys(ns.redisPrefix).events(runId);
    await writer.append(runId, "metadata", {});
    expect(await ns.redis.ttl(key)).toBe(-1);
    await writer.end(runId, { status: "success" });
    const ttl = await ns.redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it("bounds the stream length with maxLen (approximately, whole nodes at a time)", async () => {
    const runId = nextRunId();
    const small = createJournalWriter(ns.redis, ns.redisPrefix, { maxLen: 100 });
    for (let i = 0; i < 1000; i++) void small.append(runId, "messages", { i });
    await small.flush(runId);
    const len = await ns.redis.xlen(journalKeys(ns.redisPrefix).events(runId));
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThan(300);
  });

  it("reports a failed un-awaited append at flush (and end), not as an unhandled rejection", async () => {
    const runId = nextRunId();
    await ns.redis.set(journalKeys(ns.redisPrefix).events(runId), "not a stream");
    void writer.append(runId, "values", {});
    await expect(writer.flush(runId)).rejects.toThrow(/WRONGTYPE/);
    await expect(writer.flush(runId)).resolves.toBeUndefined(); // reported once
    void writer.append(runId, "values", {});
    await expect(writer.end(runId, {})).rejects.toThrow(/WRONGTYPE/);
  });

  it("refuses event names that would break the live framing or fake a gap", () => {
    const runId = nextRunId();
    expect(() => writer.append(runId, "a\nb", {})).toThrow(TypeError);
    expect(() => writer.append(runId, "", {})).toThrow(TypeError);
    expect(() => writer.append(runId, "gap", {})).toThrow(TypeError);
    expect(() => writer.append(runId, "values", { n: 1n })).toThrow(TypeError);
    expect(() => createJournalWriter(ns.redis, ns.redisPrefix, { maxLen: 0 })).toThrow(TypeError);
  });
});

describe("the attempt fence", () => {
  it("refuses a superseded attempt's appends once a later attempt wrote, and tells it once", async () => {
    const runId = nextRunId();
    const refusals: string[] = [];
    const first = writer.forAttempt(runId, 1, (r) => refusals.push(r));
    await first.append("metadata", { attempt: 1 });
    const second = writer.forAttempt(runId, 2);
    await second.append("metadata", { attempt: 2 });
    await expect(first.append("messages", { stale: true })).rejects.toBeInstanceOf(JournalFencedError);
    await expect(first.append("messages", { stale: true })).rejects.toMatchObject({ refusal: "superseded" });
    expect(refusals).toEqual(["superseded"]);
    await second.append("messages", { fresh: true });
    const entries = await ns.redis.xrange(journalKeys(ns.redisPrefix).events(runId), "-", "+");
    expect(entries.map(([, f]) => f[3])).toEqual(['{"attempt":1}', '{"attempt":2}', '{"fresh":true}']);
  });

  it("writes one end whoever calls it, and nothing after it", async () => {
    const runId = nextRunId();
    const attempt = writer.forAttempt(runId, 1);
    await attempt.append("metadata", {});
    expect(await writer.end(runId, { status: "success" })).toMatch(/^\d+-\d+$/);
    expect(await writer.end(runId, { status: "interrupted" })).toBeNull();
    await expect(attempt.append("messages", {})).rejects.toMatchObject({ refusal: "ended" });
    await expect(writer.append(runId, "values", {})).rejects.toMatchObject({ refusal: "ended" });
    const entries = await ns.redis.xrange(journalKeys(ns.redisPrefix).events(runId), "-", "+");
    expect(entries.map(([, f]) => f[1])).toEqual(["metadata", "end"]);
    expect(await ns.redis.ttl(journalKeys(ns.redisPrefix).fence(runId))).toBeGreaterThan(0);
  });

  it("drops a retransmitted append (same attempt and sequence number) instead of storing it twice", async () => {
    const runId = nextRunId();
    const keys = journalKeys(ns.redisPrefix);
    await writer.forAttempt(runId, 1).append("metadata", {});
    // What ioredis does when a reply was lost: the same script call again. Reproduced at the script level.
    const fence = await ns.redis.hgetall(keys.fence(runId));
    expect(fence).toMatchObject({ a: "1", s: "1" });
    const again = writer.forAttempt(runId, 1); // a fresh counter starts at 1 again: a retransmission of seq 1
    await expect(again.append("metadata", {})).resolves.toBe("");
    expect(await ns.redis.xlen(keys.events(runId))).toBe(1);
  });

  it("a superseded attempt's refusals are its own: the attempt that took over flushes and ends cleanly", async () => {
    const runId = nextRunId();
    const stale = writer.forAttempt(runId, 1);
    await stale.append("metadata", {});
    const fresh = writer.forAttempt(runId, 2);
    await fresh.claim(); // before the takeover reads the journal: the stale attempt is cut off from here
    void stale.append("messages", { late: true });
    await expect(stale.flush()).rejects.toMatchObject({ refusal: "superseded" });
    void stale.append("messages", { later: true });
    await fresh.append("metadata", { attempt: 2 });
    await expect(fresh.flush()).resolves.toBeUndefined();
    expect(await writer.end(runId, {})).toMatch(/^\d+-\d+$/);
    const entries = await ns.redis.xrange(journalKeys(ns.redisPrefix).events(runId), "-", "+");
    expect(entries.map(([, f]) => f[3])).toEqual(["{}", '{"attempt":2}', "{}"]);
    await expect(writer.forAttempt(runId, 3).claim()).rejects.toMatchObject({ refusal: "ended" });
  });

  it("pushes in order with appends, and reports a pushed append's failure or refusal at the next flush", async () => {
    const runId = nextRunId();
    const keys = journalKeys(ns.redisPrefix);
    const attempt = writer.forAttempt(runId, 1);
    await attempt.claim();
    for (let i = 0; i < 50; i++) attempt.push("messages", { i });
    await expect(attempt.append("values", { last: true })).resolves.toMatch(/^\d+-\d+$/);
    await expect(attempt.flush()).resolves.toBeUndefined();
    const entries = await ns.redis.xrange(keys.events(runId), "-", "+");
    expect(entries.map(([, f]) => f[3])).toEqual([...Array.from({ length: 50 }, (_, i) => `{"i":${i}}`), '{"last":true}']);
    // A bad event name throws where it is pushed and leaves nothing behind for flush to wait on, nor a gap.
    expect(() => attempt.push("a\nb", {})).toThrow(TypeError);
    attempt.push("messages", { after: "bad name" });
    await expect(attempt.flush()).resolves.toBeUndefined();
    expect(await ns.redis.xlen(keys.events(runId))).toBe(52);
    // Taken over: the pushes that follow are refused, and flush says so once.
    await writer.forAttempt(runId, 2).claim();
    attempt.push("messages", { stale: 1 });
    await expect(attempt.flush()).rejects.toMatchObject({ refusal: "superseded" });
    attempt.push("messages", { stale: 2 }); // refused without a round trip: the fence's answer is known
    await expect(attempt.flush()).rejects.toMatchObject({ refusal: "superseded" });
    await expect(attempt.flush()).resolves.toBeUndefined();
    expect(await ns.redis.xlen(keys.events(runId))).toBe(52);
  });

  it("re-sends an attempt's appends cut off by a Redis restart: every one stored once, in order", async () => {
    // A restart closes the connection while replies to an auto-pipelined burst are on the way: ioredis then
    // aborts the rest of the pipeline ("Command aborted due to connection close"), some of it already stored.
    const redis = await startPrivateRedis({ appendOnly: true });
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null, enableAutoPipelining: true });
    connection.on("error", () => undefined);
    try {
      const prefix = `${ns.redisPrefix}:restart`;
      const runId = nextRunId();
      const journal = createJournalWriter(connection, prefix).forAttempt(runId, 1);
      await journal.claim();
      let restarted: Promise<void> | null = null;
      for (let i = 0; i < 20_000; i++) {
        void journal.append("messages", { i });
        if (i === 3000) restarted = redis.restart({ downMs: 200 });
        if (i % 1000 === 0) await new Promise((r) => setImmediate(r)); // let the burst go out in pipelines
      }
      await restarted;
      await journal.flush();
      const entries = await connection.xrange(journalKeys(prefix).events(runId), "-", "+");
      expect(entries.map(([, f]) => JSON.parse(f[3]).i)).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
    } finally {
      connection.disconnect();
      await redis.stop();
    }
  }, 60_000);
});
