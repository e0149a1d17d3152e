// Micro-benchmark of the run event journal on this machine: append throughput (awaited vs pipelined) and the
// latency from append() to a live listener. Run: `npx tsx packages/journal/bench/journal-throughput.ts`
// (REDIS_URL, default redis://127.0.0.1:6379). Uses its own key prefix and unlinks it afterwards.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import Redis from "ioredis";
import { createJournalHub, createJournalWriter, parseEntryData, subscribeRun, type JournalHub, type JournalWriter } from "../src/index";

const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const prefix = `bench:journal:${randomBytes(4).toString("hex")}`;
// Roughly one `messages` tuple event of a streamed token, as the worker journals it.
const token = (i: number, t0 = 0) => [
  { content: ` word${i}`, id: "run-msg-1", type: "AIMessageChunk", t0 },
  { langgraph_node: "llm", langgraph_step: 1, ls_model_name: "story-model" },
];

async function main() {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const writer = createJournalWriter(redis, prefix);
  const hub = createJournalHub(redis, prefix, { connectionName: `${prefix}:hub` });
  console.log(`payload ≈ ${JSON.stringify(token(1, performance.now())).length} bytes JSON, node ${process.version}`);
  await writer.append("warmup", "messages", token(0)); // loads the script on the connection

  const awaited = 5_000;
  let t = performance.now();
  for (let i = 0; i < awaited; i++) await writer.append("awaited", "messages", token(i));
  report("appends/s, each awaited (1 round trip each)", awaited, performance.now() - t);

  const pipelined = 50_000;
  t = performance.now();
  for (let i = 0; i < pipelined; i++) void writer.append("pipelined", "messages", token(i));
  await writer.flush("pipelined");
  report("appends/s, pipelined (fire, then flush)", pipelined, performance.now() - t);

  console.log(await latency(redis, writer, hub, "paced", 2_000, false));
  console.log(await latency(redis, writer, hub, "burst", 20_000, true));
  console.log(await fanOut(redis, writer, hub, 100, 1_000));

  await hub.close();
  await unlinkPrefix(redis);
  await redis.quit();
}

/** append() → hub listener latency, one listener. `burst` fires all appends at once (queueing included). */
async function latency(redis: Redis, writer: JournalWriter, hub: JournalHub, runId: string, n: number, burst: boolean) {
  const samples: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const unlisten = await hub.listen(runId, (entry) => {
    const [chunk] = parseEntryData<[{ t0: number }]>(entry);
    samples.push(performance.now() - chunk.t0);
    if (samples.length === n) done();
  });
  for (let i = 0; i < n; i++) {
    const p = writer.append(runId, "messages", token(i, performance.now()));
    if (!burst) await p;
  }
  await finished;
  unlisten();
  return `append→live listener latency (${burst ? `burst of ${n}, pipelined` : `${n} awaited appends`}): ${percentiles(samples)}`;
}

/** append() → 100 subscribeRun iterators on one hub: latency until the last subscriber has the entry. */
async function fanOut(redis: Redis, writer: JournalWriter, hub: JournalHub, subscribers: number, n: number) {
  const runId = "fanout";
  const sent = new Map<number, number>();
  const seen = new Map<number, number>();
  const worst: number[] = [];
  let seenMetadata = 0;
  const consumers = Array.from({ length: subscribers }, async () => {
    for await (const entry of subscribeRun({ redis, hub, prefix, runId })) {
      if (entry.event === "metadata") seenMetadata++;
      if (entry.event !== "messages") continue;
      const i = Number(JSON.parse(entry.dataJson)[0].content.slice(5));
      const count = (seen.get(i) ?? 0) + 1;
      seen.set(i, count);
      if (count === subscribers) worst.push(performance.now() - sent.get(i)!);
    }
  });
  // Every subscriber has seen the metadata entry once it is live, so no sample below comes from a backlog read.
  await writer.append(runId, "metadata", {});
  while (seenMetadata < subscribers) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < n; i++) {
    sent.set(i, performance.now());
    await writer.append(runId, "messages", token(i));
  }
  await writer.end(runId, {});
  await Promise.all(consumers);
  return `append→last of ${subscribers} subscribeRun iterators (${n} awaited appends): ${percentiles(worst)}`;
}

function percentiles(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(3);
  return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms, max ${s[s.length - 1]!.toFixed(3)} ms (n=${s.length})`;
}

function report(what: string, n: number, ms: number) {
  console.log(`${what}: ${Math.round((n / ms) * 1000).toLocaleString("en-US")} (${n} in ${ms.toFixed(0)} ms)`);
}

async function unlinkPrefix(redis: Redis) {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== "0");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
