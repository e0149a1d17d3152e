// The Redis key layout is cluster-ready: against a real three-master Redis Cluster on private loopback ports, a
// run's journal (append script over stream + fence, MULTI reads, live pub/sub) and the BullMQ run queue work
// unchanged, every key of one run sits in one slot, and different runs spread over the shards.
import { createJournalHub, createJournalWriter, createRedis, journalKeys, readRange, subscribeRun, type JournalEntry } from "@runline/journal";
import { createRunQueue, createRunWorker, queuePrefix } from "@runline/queue";
import { startPrivateRedisCluster, waitFor, type PrivateRedisCluster } from "@runline/testing";
import { Cluster, type Redis } from "ioredis";

const prefix = `rl-cluster-${process.pid}`;
let cluster: PrivateRedisCluster;
let client: Cluster;
// Runline's modules are typed for a single connection; a Cluster answers the same commands.
const asRedis = () => client as unknown as Redis;

beforeAll(async () => {
  cluster = await startPrivateRedisCluster(3);
  // As the runtime makes it (RUNLINE_REDIS_CLUSTER): its subscriber connections need the seed it was made from.
  const [seed] = cluster.startupNodes;
  client = createRedis({ url: `redis://${seed!.host}:${seed!.port}`, cluster: true }) as unknown as Cluster;
}, 60_000);

afterAll(async () => {
  await client?.quit().catch(() => undefined);
  await cluster?.stop();
});

const slotOf = async (key: string) => Number(await client.cluster("KEYSLOT", key));

it("puts a run's stream, fence and channel in one slot, and spreads runs over the shards", async () => {
  const keys = journalKeys(prefix);
  for (const runId of ["r-1", "r-2", "r-3"]) {
    const slots = new Set(await Promise.all([keys.events(runId), keys.fence(runId), keys.live(runId)].map(slotOf)));
    expect(slots.size).toBe(1);
  }
  // 3 masters own a third of the slots each: 64 run ids land on more than one of them.
  const runSlots = await Promise.all(Array.from({ length: 64 }, (_, i) => slotOf(keys.events(`run-${i}`))));
  const shardOf = (slot: number) => Math.floor(slot / (16384 / 3));
  expect(new Set(runSlots.map(shardOf)).size).toBe(3);
  // Every BullMQ key of the queue shares the `{q}` tag.
  expect(await slotOf(`${queuePrefix(prefix)}:runs:wait`)).toBe(await slotOf(`${queuePrefix(prefix)}:runs:meta`));
});

it("journals runs on several shards: fenced attempt appends, end, backlog read and live delivery", async () => {
  const writer = createJournalWriter(asRedis(), prefix);
  const hub = createJournalHub(asRedis(), prefix, { connectionName: `${prefix}:hub` });
  try {
    const runIds = Array.from({ length: 6 }, (_, i) => `journal-${i}`);
    const received = runIds.map((runId) => collect(subscribeRun({ redis: asRedis(), hub, prefix, runId })));
    // Subscribed (the live channel is known to the cluster) before the first append, so live delivery is exercised.
    await waitFor(async () => {
      const counts = (await client.pubsub("NUMSUB", ...runIds.map((id) => journalKeys(prefix).live(id)))) as Array<string | number>;
      return counts.filter((_, i) => i % 2 === 1).every((n) => Number(n) === 1);
    });
    await Promise.all(
      runIds.map(async (runId) => {
        const attempt = writer.forAttempt(runId, 1, () => undefined);
        for (let i = 0; i < 20; i++) await attempt.append("values", { i });
        await writer.end(runId, { status: "success" });
      }),
    );
    for (const [k, runId] of runIds.entries()) {
      const live = await received[k]!;
      const stored: JournalEntry[] = [];
      for await (const entry of readRange(asRedis(), prefix, runId)) stored.push(entry);
      expect(live.map((e) => e.event)).toEqual([...Array(20).fill("values"), "end"]);
      expect(live.map((e) => e.id)).toEqual(stored.map((e) => e.id));
    }
  } finally {
    await hub.close();
  }
});

it("coalesces appends of runs on several shards issued in one tick by slot (no CROSSSLOT): each run complete and in order", async () => {
  const writer = createJournalWriter(asRedis(), `${prefix}:batch`);
  const keys = journalKeys(`${prefix}:batch`);
  // Two runs whose keys share a slot go in one script call together; the others in calls of their own.
  const candidates = Array.from({ length: 600 }, (_, i) => `batch-${i}`);
  const slots = await Promise.all(candidates.map((runId) => slotOf(keys.events(runId))));
  const first = slots.findIndex((slot, i) => slots.indexOf(slot) !== i);
  const sameSlot = [candidates[slots.indexOf(slots[first]!)]!, candidates[first]!];
  const runIds = [...sameSlot, ...Array.from({ length: 8 }, (_, i) => `batch-spread-${i}`)];
  const attempts = runIds.map((runId) => writer.forAttempt(runId, 1));
  await Promise.all(attempts.map((a) => a.claim()));
  for (let i = 0; i < 30; i++) for (const attempt of attempts) void attempt.append("values", { i });
  const ends = runIds.map((runId) => writer.end(runId, { status: "success" }));
  await Promise.all([...attempts.map((a) => a.flush()), ...ends]);
  for (const runId of runIds) {
    const stored: JournalEntry[] = [];
    for await (const entry of readRange(asRedis(), `${prefix}:batch`, runId)) stored.push(entry);
    expect(stored.map((e) => (e.event === "end" ? "end" : (JSON.parse(e.dataJson) as { i: number }).i))).toEqual([...Array.from({ length: 30 }, (_, i) => i), "end"]);
  }
});

it("runs BullMQ jobs: enqueue, process, job state", async () => {
  const queue = createRunQueue(asRedis(), prefix);
  const done: string[] = [];
  const worker = createRunWorker(
    asRedis(),
    prefix,
    async (job, _token, _signal) => {
      done.push(job.data.runId);
    },
    { concurrency: 4, lockDurationMs: 30_000, stalledIntervalMs: 30_000 },
  );
  try {
    const runIds = ["job-1", "job-2", "job-3"];
    for (const runId of runIds) await queue.enqueue({ runId, threadId: `t-${runId}` });
    await waitFor(() => done.length === runIds.length, { timeoutMs: 20_000, what: "every job processed" });
    expect(done.sort()).toEqual(runIds);
    await waitFor(async () => (await queue.jobState("job-1")) === "completed");
  } finally {
    await worker.close();
    await queue.close();
  }
});

async function collect(it: AsyncIterable<JournalEntry>): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  for await (const entry of it) out.push(entry);
  return out;
}
