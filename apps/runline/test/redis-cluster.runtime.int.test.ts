// The whole of Runline (API + worker, `startRunline`) on a real three-master Redis Cluster on private loopback
// ports (`RUNLINE_REDIS_CLUSTER=1`): BullMQ, the fenced journal, live SSE, stream slots, the cancel and its
// partial, a resumed join, and the worker heartbeats, with runs whose journals sit on different shards.
import { listWorkerHeartbeats, workerHeartbeatKeys } from "@runline/queue";
import { journalKeys } from "@runline/journal";
import { collectSse, startPrivateRedisCluster, waitFor, type PrivateRedisCluster } from "@runline/testing";
import Redis, { Cluster } from "ioredis";
import { cancel, newThread, startLiveRun } from "./cancel-helpers";
import { lastAiText, startTestRunline, userInput, type TestRunline } from "./harness";

let cluster: PrivateRedisCluster;
let t: TestRunline;
let client: Cluster;

beforeAll(async () => {
  cluster = await startPrivateRedisCluster(3);
  // One seed node: the client discovers the other two.
  const [seed] = cluster.startupNodes;
  t = await startTestRunline("rediscluster", { REDIS_URL: `redis://${seed!.host}:${seed!.port}`, RUNLINE_REDIS_CLUSTER: "1" });
  client = new Cluster(cluster.startupNodes);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await client?.quit().catch(() => undefined);
  await cluster?.stop();
});

const compareIds = (a: string, b: string) => {
  const [am, as] = a.split("-").map(Number);
  const [bm, bs] = b.split("-").map(Number);
  return am! - bm! || as! - bs!;
};

const streamRun = (threadId: string, text: string) =>
  collectSse(`${t.url}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "content-type": "application/json", ...t.api.headers },
    body: JSON.stringify({ assistant_id: "story", input: userInput(text), stream_mode: ["values", "messages-tuple"] }),
  });

it("streams runs whose journals are on different shards, each whole and in order, and a join resumes exactly", async () => {
  const threads = await Promise.all(Array.from({ length: 6 }, () => newThread(t)));
  const results = await Promise.all(threads.map((threadId, i) => streamRun(threadId, `story ${i}`)));
  const runIds = results.map(({ frames }) => frames[0]!.data.run_id as string);
  for (const { frames } of results) {
    expect(frames.filter((f) => f.event === "error").map((f) => f.data)).toEqual([]);
    expect(frames[0]!.event).toBe("metadata");
    expect(frames.at(-1)).toMatchObject({ event: "end", data: { status: "success" } });
    expect(frames.filter((f) => f.event === "messages")).toHaveLength(20);
  }
  // The journals really are spread: 6 runs land on more than one of the 3 masters.
  const keys = journalKeys(t.ns.redisPrefix);
  const slots = await Promise.all(runIds.map(async (runId) => Number(await client.cluster("KEYSLOT", keys.events(runId)))));
  expect(new Set(slots.map((slot) => Math.floor(slot / (16384 / 3)))).size).toBeGreaterThan(1);
  // Every journal is in the cluster: what each stream sent, in its order (the journal also holds the modes this
  // client did not ask for).
  for (const [k, runId] of runIds.entries()) {
    const sent = results[k]!.frames.filter((f) => f.id).map((f) => f.id);
    const stored = (await client.xrange(keys.events(runId), "-", "+")).map(([id]) => id);
    expect(stored.filter((id) => sent.includes(id))).toEqual(sent);
  }

  // A join after the 10th event gets exactly the rest.
  const { frames } = results[0]!;
  const resumeAt = frames.filter((f) => f.id)[9]!;
  const joined = await collectSse(`${t.url}/threads/${threads[0]}/runs/${runIds[0]}/stream`, { headers: { ...t.api.headers, "last-event-id": resumeAt.id! } });
  expect(joined.frames.map((f) => f.id)).toEqual(frames.slice(frames.indexOf(resumeAt) + 1).map((f) => f.id));
});

it("cancels a streaming run through the cluster's pub/sub and keeps its partial in the thread", async () => {
  const threadId = await newThread(t);
  const live = await startLiveRun(t, threadId, "tell me a long story");
  await live.readTokens(5);
  const res = await cancel(t, live);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ outcome: "cancelled", status: "interrupted" });
  await live.readToEnd();
  expect(live.frames.at(-1)).toMatchObject({ event: "end", data: { status: "interrupted", partial: res.body.partial } });
  const state = (await t.api.get(`/threads/${threadId}/state`)).body;
  expect(lastAiText(state.values)).toBe(live.streamedText());
  expect(res.body.partial.token_count).toBe(live.tokens().length);
});

it("loses no live entry when the subscriber connections drop mid-run: every token once, in order, then the end", async () => {
  const threadId = await newThread(t);
  const live = await startLiveRun(t, threadId, "story", { config: { configurable: { story_tokens: 60, story_token_delay_ms: 10 } } });
  await live.readTokens(5);
  // Every pub/sub client on every node: the journal hub's and the run control's.
  const killed = await Promise.all(
    cluster.startupNodes.map(async (node) => {
      const admin = new Redis(node);
      try {
        return Number(await admin.client("KILL", "TYPE", "pubsub"));
      } finally {
        admin.disconnect();
      }
    }),
  );
  expect(killed.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  await live.readToEnd();
  const tokens = live.tokens();
  expect(live.frames.at(-1)).toMatchObject({ event: "end", data: { status: "success" } });
  expect(tokens.length).toBe(60);
  expect(new Set(tokens.map((f) => f.id)).size).toBe(60);
  const ids = live.frames.filter((f) => f.id).map((f) => f.id!);
  expect([...ids].sort(compareIds)).toEqual(ids);
});

it("lists the worker's heartbeat from whichever master holds it", async () => {
  // The test's own Cluster client, typed for the single connection Runline's modules are written against.
  const { workers, unreachableNodes } = await listWorkerHeartbeats(client as unknown as Redis, t.ns.redisPrefix);
  expect(workers).toHaveLength(1);
  expect(workers[0]).toMatchObject({ worker_id: expect.any(String) });
  expect(unreachableNodes).toEqual([]);
});

it("still lists the workers on the other masters while one master does not answer, and names that one", async () => {
  const redis = client as unknown as Redis;
  const [worker] = (await listWorkerHeartbeats(redis, t.ns.redisPrefix)).workers;
  const slot = Number(await client.cluster("KEYSLOT", workerHeartbeatKeys(t.ns.redisPrefix).worker(worker!.worker_id)));
  const holder = client.slots[slot]![0]!;
  const other = cluster.nodes.find((node) => !holder.endsWith(`:${node.port}`))!;
  const direct = new Redis(other.port, "127.0.0.1");
  const scans = async () => Number(/cmdstat_scan:calls=(\d+)/.exec(await direct.info("commandstats"))?.[1] ?? 0);
  const scansBefore = await scans();
  // Shorter than the cluster's node timeout (2 s), so the cluster itself never marks the paused master failed.
  other.pause();
  try {
    for (let i = 0; i < 2; i++) {
      const listing = await listWorkerHeartbeats(redis, t.ns.redisPrefix, { nodeTimeoutMs: 300 });
      expect(listing.workers.map((w) => w.worker_id)).toEqual([worker!.worker_id]);
      expect(listing.unreachableNodes).toEqual([`127.0.0.1:${other.port}`]);
    }
  } finally {
    other.resume();
  }
  // The second listing waited on the first one's unanswered SCAN instead of queueing another behind it: once the
  // woken node answered what was queued, it had one SCAN to answer, not two.
  await waitFor(async () => (await scans()) > scansBefore, { what: "the woken master answers the queued SCAN" });
  expect((await scans()) - scansBefore).toBe(1);
  await direct.quit();
  expect((await listWorkerHeartbeats(redis, t.ns.redisPrefix)).unreachableNodes).toEqual([]);
});
