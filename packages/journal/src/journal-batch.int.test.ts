// The writer coalesces every append-script call of one event-loop turn into one script call. Against a private
// Redis, so `INFO commandstats` counts this file's script calls only.
import Redis from "ioredis";
import { startPrivateRedis, type PrivateRedis } from "@runline/testing";
import { createJournalWriter, JournalFencedError, type JournalWriter } from "./journal-writer";
import { journalKeys } from "./keys";

let server: PrivateRedis;
let redis: Redis;
let runSeq = 0;
const prefix = `journal-batch-${process.pid}`;
const keys = journalKeys(prefix);
const nextRunId = () => `run-${++runSeq}`;

beforeAll(async () => {
  server = await startPrivateRedis({ appendOnly: true });
  redis = new Redis(server.url, { maxRetriesPerRequest: null, enableAutoPipelining: true });
  redis.on("error", () => undefined);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

/** Script calls (EVAL + EVALSHA) the server ran since the last call of this function. */
async function scriptCalls(): Promise<number> {
  const info = await redis.info("commandstats");
  await redis.config("RESETSTAT");
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_(eval|evalsha):calls=(\d+)/gm)) calls += Number(m[2]);
  return calls;
}

/** The `i` of every stored entry of a run, in stream order. */
async function storedIs(runId: string): Promise<unknown[]> {
  const entries = await redis.xrange(keys.events(runId), "-", "+");
  return entries.map(([, f]) => (JSON.parse(f[3]!) as { i?: unknown } | null)?.i ?? f[1]);
}

async function warmWriter(opts: Parameters<typeof createJournalWriter>[2] = {}): Promise<JournalWriter> {
  const writer = createJournalWriter(redis, prefix, opts);
  await writer.append(nextRunId(), "metadata", {}); // loads the script on this connection (EVAL once)
  await scriptCalls();
  return writer;
}

describe("coalescing the journal's script calls", () => {
  it("sends the appends, attempt appends and ends of many runs issued in one tick as one script call, each run in order", async () => {
    const writer = await warmWriter();
    const plain = Array.from({ length: 20 }, nextRunId);
    const fenced = Array.from({ length: 20 }, nextRunId);
    const attempts = fenced.map((runId) => writer.forAttempt(runId, 1));
    await Promise.all(attempts.map((a) => a.claim()));
    await scriptCalls();

    const ids: Promise<string>[] = [];
    for (let i = 0; i < 5; i++) {
      for (const runId of plain) ids.push(writer.append(runId, "messages", { i }));
      for (const attempt of attempts) ids.push(attempt.append("messages", { i }));
    }
    const ends = plain.map((runId) => writer.end(runId, { status: "success" }));
    await Promise.all([...ids, ...ends, ...attempts.map((a) => a.flush())]);

    expect(await scriptCalls()).toBe(1);
    for (const runId of plain) expect(await storedIs(runId)).toEqual([0, 1, 2, 3, 4, "end"]);
    for (const runId of fenced) expect(await storedIs(runId)).toEqual([0, 1, 2, 3, 4]);
    for (const id of [...(await Promise.all(ids)), ...(await Promise.all(ends))]) expect(id).toMatch(/^\d+-\d+$/);
    expect(await redis.ttl(keys.events(plain[0]!))).toBeGreaterThan(0);
  });

  it("starts a new script call past maxItems or maxBytes, keeping the order", async () => {
    const writer = await warmWriter({ batch: { maxItems: 100, maxBytes: 50_000 } });
    const runId = nextRunId();
    for (let i = 0; i < 250; i++) void writer.append(runId, "messages", { i });
    await writer.flush(runId);
    expect(await scriptCalls()).toBe(3);
    const big = nextRunId();
    for (let i = 0; i < 5; i++) void writer.append(big, "values", { i, pad: "x".repeat(20_000) });
    await writer.flush(big);
    expect(await scriptCalls()).toBe(3); // 2 + 2 + 1 items of ~20 kB
    expect(await storedIs(runId)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(await storedIs(big)).toEqual([0, 1, 2, 3, 4]);
  });

  it("applies each item of a batch on its own: a refused, failed or out-of-place item leaves the others alone", async () => {
    const writer = await warmWriter();
    const ended = nextRunId();
    await writer.end(ended, {});
    const superseded = nextRunId();
    const stale = writer.forAttempt(superseded, 1);
    await stale.claim();
    await writer.forAttempt(superseded, 2).claim();
    const broken = nextRunId();
    await redis.set(keys.events(broken), "not a stream");
    // A fence that lost its place: stored up to 3, but Redis says 1 (what a lost write would leave).
    const lost = nextRunId();
    const behind = writer.forAttempt(lost, 1);
    for (let i = 0; i < 3; i++) await behind.append("messages", { i });
    await redis.hset(keys.fence(lost), "s", 1);
    const healthy = nextRunId();
    await scriptCalls();

    const results = [
      writer.append(healthy, "messages", { i: 0 }),
      writer.append(ended, "messages", { i: 0 }),
      writer.append(healthy, "messages", { i: 1 }),
      stale.append("messages", { i: 0 }),
      writer.append(healthy, "messages", { i: 2 }),
      writer.append(broken, "messages", { i: 0 }),
      writer.append(healthy, "messages", { i: 3 }),
      behind.append("messages", { i: 3 }),
      writer.append(healthy, "messages", { i: 4 }),
    ].map((p) => p.then((id) => ({ id }), (error: unknown) => ({ error })));
    const [h0, e, h1, s, h2, b, h3, l, h4] = await Promise.all(results);

    for (const ok of [h0, h1, h2, h3, h4]) expect(ok).toEqual({ id: expect.stringMatching(/^\d+-\d+$/) });
    expect(await storedIs(healthy)).toEqual([0, 1, 2, 3, 4]);
    expect(e).toEqual({ error: expect.objectContaining({ refusal: "ended" }) });
    expect(s).toEqual({ error: expect.any(JournalFencedError) });
    expect((s as { error: JournalFencedError }).error.refusal).toBe("superseded");
    expect((b as { error: Error }).error.message).toMatch(/WRONGTYPE/);
    // GAP, as with one call per append: re-sent, refused again, so the attempt reports the fence lost its place.
    expect((l as { error: Error }).error.message).toMatch(/lost its place before append 4/);
    expect(await storedIs(lost)).toEqual([0, 1, 2]);
    expect(await storedIs(ended)).toEqual(["end"]);
    await expect(writer.flush(broken)).rejects.toThrow(/WRONGTYPE/);
  });

  it("re-sends batches cut off by a Redis restart: every run's appends stored once, in order", async () => {
    const writer = createJournalWriter(redis, prefix);
    const runIds = Array.from({ length: 25 }, nextRunId);
    const attempts = runIds.map((runId) => writer.forAttempt(runId, 1));
    await Promise.all(attempts.map((a) => a.claim()));
    const n = 800;
    let restarted: Promise<void> | null = null;
    for (let i = 0; i < n; i++) {
      for (const attempt of attempts) void attempt.append("messages", { i });
      if (i === 100) restarted = server.restart({ downMs: 200 });
      if (i % 20 === 0) await new Promise((r) => setImmediate(r)); // batches go out while the restart happens
    }
    await restarted;
    await Promise.all(attempts.map((a) => a.flush()));
    const expected = Array.from({ length: n }, (_, i) => i);
    for (const runId of runIds) expect(await storedIs(runId)).toEqual(expected);
  }, 60_000);
});
