// The Redis key layout is cluster-ready: against a real three-master Redis Cluster on private loopback ports, a
// run's journal (append script over stream + fence, MULTI reads, live pub/sub) and the BullMQ run queue work
// unchanged, every key of one run sits in one slot, and different runs spread over the shards.
import { createJournalHub, createJournalWriter, createRedis, journalKeys, readRange, subscribeRun, type JournalEntry } from "@runline/journal";
import { createRunQueue, createRunWorker, queuePrefix } from "@runline/queue";
import { startPrivateRedisCluster, waitFor, type PrivateRedisCluster } from "@runline/testing";
import calculateSlot from "cluster-key-slot";
import { Cluster, Redis } from "ioredis";

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
    // Subscribed before the first append, so live delivery is exercised: sharded pub/sub, each channel on the
    // master that owns its slot (and on no other).
    const channels = runIds.map((id) => journalKeys(prefix).live(id));
    await waitFor(async () => {
      const perNode = await Promise.all(client.nodes("master").map(async (node) => (await node.pubsub("SHARDNUMSUB", ...channels)) as Array<string | number>));
      return channels.every((_, k) => perNode.map((counts) => Number(counts[2 * k + 1])).sort().join() === "0,0,1");
    });
    expect(Number(await client.nodes("master")[0]!.pubsub("NUMSUB", channels[0]!).then((r) => (r as unknown[])[1]))).toBe(0);
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

it("keeps plain pub/sub when sharded pub/sub is off (a Redis 6 cluster): one subscriber on the seed hears every shard", async () => {
  const [seed] = cluster.startupNodes;
  const plain = createRedis({ url: `redis://${seed!.host}:${seed!.port}`, cluster: true, shardedPubSub: false });
  const plainPrefix = `${prefix}:plain`;
  const writer = createJournalWriter(plain, plainPrefix);
  const hub = createJournalHub(plain, plainPrefix, { connectionName: `${prefix}:plain-hub` });
  try {
    const runIds = Array.from({ length: 6 }, (_, i) => `plain-${i}`);
    const received = runIds.map((runId) => collect(subscribeRun({ redis: plain, hub, prefix: plainPrefix, runId })));
    const seedNode = new Redis(seed!);
    try {
      const channels = runIds.map((id) => journalKeys(plainPrefix).live(id));
      await waitFor(async () => ((await seedNode.pubsub("NUMSUB", ...channels)) as unknown[]).filter((_, i) => i % 2 === 1).every((n) => Number(n) === 1));
    } finally {
      seedNode.disconnect();
    }
    await Promise.all(
      runIds.map(async (runId) => {
        const attempt = writer.forAttempt(runId, 1, () => undefined);
        for (let i = 0; i < 10; i++) await attempt.append("values", { i });
        await writer.end(runId, { status: "success" });
      }),
    );
    for (const live of await Promise.all(received)) expect(live.map((e) => e.event)).toEqual([...Array(10).fill("values"), "end"]);
  } finally {
    await hub.close();
    await plain.quit();
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

it.each([
  ["every master told at once, new owner first, as redis-cli does", "quick"],
  // Until the last one is told, a slot map refresh the hub asks for may be answered with the old owner.
  ["the masters told one by one, 300 ms apart", "slow"],
] as const)("keeps a live subscriber whole while its run's slot moves to another master mid-run: %s", async (_, order) => {
  const movePrefix = `${prefix}:move-${order}`;
  const writer = createJournalWriter(asRedis(), movePrefix);
  const hub = createJournalHub(asRedis(), movePrefix, { connectionName: `${prefix}:move-hub` });
  const runId = "moving-run";
  const channel = journalKeys(movePrefix).live(runId);
  const slot = calculateSlot(channel);
  try {
    await waitFor(() => client.slots[slot] !== undefined, { what: "the client's slot map" });
    const from = nodeOwning(slot);
    const to = client.nodes("master").find((node) => node !== from)!;
    const received = collect(subscribeRun({ redis: asRedis(), hub, prefix: movePrefix, runId }));
    await waitFor(async () => (await shardSubscribers(from, channel)) === 1, { what: "the subscriber on the slot's owner" });
    // A run on the same master whose slot stays: the move must not make its streams re-read their journal.
    const bystander = Array.from({ length: 400 }, (_, i) => `bystander-${i}`).find(
      (id) => nodeOwning(calculateSlot(journalKeys(movePrefix).live(id))) === from && calculateSlot(journalKeys(movePrefix).live(id)) !== slot,
    )!;
    let bystanderHeld = 0;
    const leaveBystander = await hub.listen(bystander, () => undefined, { onDisconnect: () => bystanderHeld++ });
    const attempt = writer.forAttempt(runId, 1);
    await attempt.claim();
    // The run keeps appending while its keys migrate and its slot changes hands, and after.
    let appended = 0;
    let last = Infinity; // set once the subscriber followed: 20 more entries, then the end
    const appending = (async () => {
      for (; appended < last; appended++) {
        await attempt.append("values", { i: appended });
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    await waitFor(() => appended >= 20, { what: "20 entries before the move" });
    await migrateKeys(slot, from, to);
    // The new owner first: told first, the old one would send the run's appends back and forth between them.
    await assignSlot(slot, to, [to, ...othersThan(to, from), from], order === "slow" ? 300 : 0);
    // The hub follows the slot to its new owner (on the unsubscribe the old owner sends, or a slot map refresh).
    await waitFor(async () => (await shardSubscribers(to, channel)) === 1, { timeoutMs: 15_000, what: "the subscriber to follow the slot" });
    last = appended + 20;
    await appending;
    await writer.end(runId, { status: "success" });
    expect(valuesOf(await received)).toEqual([...range(last), "end"]);
    expect(await shardSubscribers(from, channel)).toBe(0);
    expect(bystanderHeld).toBe(0);
    leaveBystander();
  } finally {
    await hub.close();
  }
}, 30_000);

it("keeps every run on a master whole when a slot leaves it while another run's subscription there is in flight", async () => {
  // Redis tells the old owner's subscribers with a push ioredis did not ask for, which it pairs with the next
  // pending command: the in-flight SSUBSCRIBE below. The hub must not trust that connection afterwards.
  const movePrefix = `${prefix}:inflight`;
  const keys = journalKeys(movePrefix);
  const [seed] = cluster.startupNodes;
  const hubRedis = createRedis({ url: `redis://${seed!.host}:${seed!.port}`, cluster: true });
  const writer = createJournalWriter(asRedis(), movePrefix);
  const hub = createJournalHub(hubRedis, movePrefix, { connectionName: `${prefix}:inflight-hub` });
  try {
    await hubRedis.ping();
    await waitFor(() => client.slots.length > 0, { what: "the client's slot map" });
    const owner = (runId: string) => nodeOwning(calculateSlot(keys.live(runId)));
    const ids = Array.from({ length: 400 }, (_, i) => `inflight-${i}`);
    const runA = ids[0]!;
    const x = owner(runA);
    const runB = ids.find((id) => id !== runA && owner(id) === x && calculateSlot(keys.live(id)) !== calculateSlot(keys.live(runA)))!;
    const slotA = calculateSlot(keys.live(runA));
    const y = client.nodes("master").find((node) => node !== x)!;
    const server = cluster.nodes.find((n) => n.port === x.options.port)!;

    const receivedA = collect(subscribeRun({ redis: hubRedis, hub, prefix: movePrefix, runId: runA }));
    await waitFor(async () => (await shardSubscribers(x, keys.live(runA))) === 1, { what: "run A's subscriber" });
    const writerA = writer.forAttempt(runA, 1);
    const writerB = writer.forAttempt(runB, 1);
    await Promise.all([writerA.claim(), writerB.claim()]);
    for (let i = 0; i < 5; i++) await writerA.append("values", { i });
    await migrateKeys(slotA, x, y);
    const yId = (await y.cluster("MYID")) as string;
    await y.cluster("SETSLOT", slotA, "NODE", yId);
    // With the old owner stopped, its SETSLOT is sent first, then run B's SSUBSCRIBE: on waking it unsubscribes
    // run A's channel (the push) with B's subscription still unanswered.
    server.pause();
    let receivedB: Promise<JournalEntry[]>;
    let setSlot: Promise<unknown>;
    try {
      setSlot = x.cluster("SETSLOT", slotA, "NODE", yId);
      await new Promise((resolve) => setTimeout(resolve, 50));
      receivedB = collect(subscribeRun({ redis: hubRedis, hub, prefix: movePrefix, runId: runB }));
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      server.resume();
    }
    await setSlot;
    for (const node of othersThan(x, y)) await node.cluster("SETSLOT", slotA, "NODE", yId);
    for (let i = 5; i < 40; i++) {
      await writerA.append("values", { i });
      await writerB.append("values", { i: i - 5 });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await writer.end(runA, { status: "success" });
    await writer.end(runB, { status: "success" });
    expect(valuesOf(await receivedA)).toEqual([...range(40), "end"]);
    expect(valuesOf(await receivedB)).toEqual([...range(35), "end"]);
  } finally {
    await hub.close();
    await hubRedis.quit();
  }
}, 30_000);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const valuesOf = (entries: JournalEntry[]) => entries.map((e) => (e.event === "end" ? "end" : (JSON.parse(e.dataJson) as { i: number }).i));
const shardSubscribers = async (node: Redis, channel: string) => Number(((await node.pubsub("SHARDNUMSUB", channel)) as unknown[])[1]);
const othersThan = (...nodes: Redis[]) => client.nodes("master").filter((n) => !nodes.includes(n));

/** The master that owns `slot` in the client's slot map. */
function nodeOwning(slot: number): Redis {
  const key = client.slots[slot]![0]!;
  return client.nodes("master").find((node) => `${node.options.host}:${node.options.port}` === key)!;
}

/** Moves the keys of `slot` from one master to another, the first half of what `redis-cli --cluster reshard` does. */
async function migrateKeys(slot: number, from: Redis, to: Redis): Promise<void> {
  const [fromId, toId] = await Promise.all([from.cluster("MYID"), to.cluster("MYID")]);
  await to.cluster("SETSLOT", slot, "IMPORTING", fromId as string);
  await from.cluster("SETSLOT", slot, "MIGRATING", toId as string);
  for (;;) {
    const keys = (await from.cluster("GETKEYSINSLOT", slot, 100)) as string[];
    if (keys.length === 0) break;
    await from.migrate(to.options.host!, to.options.port!, "", 0, 5000, "KEYS", ...keys);
  }
}

/** The second half: every node in `order` learns that `to` owns `slot`, `gapMs` apart. */
async function assignSlot(slot: number, to: Redis, order: Redis[], gapMs: number): Promise<void> {
  const toId = (await to.cluster("MYID")) as string;
  for (const node of order) {
    await node.cluster("SETSLOT", slot, "NODE", toId);
    if (gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
}

async function collect(it: AsyncIterable<JournalEntry>): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  for await (const entry of it) out.push(entry);
  return out;
}
