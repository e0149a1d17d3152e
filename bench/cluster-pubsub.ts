// Live delivery on a Redis Cluster (issue #12, past one machine): plain PUBLISH, which the cluster bus copies to
// every node, against sharded pub/sub (SPUBLISH / SSUBSCRIBE on the shard of the run's slot), with Runline's own
// journal writer, hub and subscribeRun, on private clusters of M masters.
//
//   npx tsx bench/cluster-pubsub.ts [--masters 3,6] [--runs 40] [--tokens 300] [--payload 600] [--rounds 2] [--no-write]
//
// R runs append T token-sized entries each (all runs at once, each append awaited, as a worker does), and one
// subscriber per run reads them live. Per mode and cluster size: Redis CPU per token (every node's used_cpu_user +
// used_cpu_sys, from INFO), the busiest node's share, cluster-bus messages per token (CLUSTER INFO), this
// process's CPU per token (writer, hub and subscribers) and tokens/s. The two modes alternate, round by round, on
// the same cluster. Every subscriber must get every entry once, in order, or the bench fails.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createJournalHub, createJournalWriter, createRedis, subscribeRun, type JournalEntry } from "@runline/journal";
import { startPrivateRedisCluster, type PrivateRedisCluster } from "@runline/testing";
import { Redis } from "ioredis";
import { writeSection } from "./lib/results-md";
import { median, round } from "./lib/stats";

const REPO_ROOT = path.resolve(__dirname, "..");
type Mode = "plain" | "sharded";

interface Round {
  mode: Mode;
  masters: number;
  tokens: number;
  wallS: number;
  redisUsPerToken: number;
  busiestNodeShare: number;
  busMessagesPerToken: number;
  clientUsPerToken: number;
}

async function nodeCounters(cluster: PrivateRedisCluster): Promise<Array<{ cpuS: number; busSent: number }>> {
  return Promise.all(
    cluster.nodes.map(async (node) => {
      const redis = new Redis({ host: "127.0.0.1", port: node.port });
      try {
        const cpu = await redis.info("cpu");
        const field = (text: string, name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(text)?.[1] ?? 0);
        const bus = (await redis.cluster("INFO")) as string;
        return { cpuS: field(cpu, "used_cpu_user") + field(cpu, "used_cpu_sys"), busSent: field(bus, "cluster_stats_messages_sent") };
      } finally {
        redis.disconnect();
      }
    }),
  );
}

async function runRound(cluster: PrivateRedisCluster, mode: Mode, runs: number, tokens: number, payload: string, tag: string): Promise<Round> {
  const seed = cluster.startupNodes[0]!;
  const redis = createRedis({ url: `redis://${seed.host}:${seed.port}`, cluster: true, shardedPubSub: mode === "sharded" });
  const prefix = `bench-cps-${process.pid}-${tag}`;
  const writer = createJournalWriter(redis, prefix);
  const hub = createJournalHub(redis, prefix, { connectionName: `${prefix}:hub` });
  try {
    await redis.ping();
    const runIds = Array.from({ length: runs }, (_, i) => `${tag}-run-${i}`);
    // Listening before the first append, so every entry travels by pub/sub (a late subscriber would read the stream).
    const subscribed: Array<() => void> = [];
    await Promise.all(runIds.map((runId) => hub.listen(runId, () => undefined).then((leave) => subscribed.push(leave))));
    const received = runIds.map((runId) => collect(subscribeRun({ redis, hub, prefix, runId })));
    const attempts = runIds.map((runId) => writer.forAttempt(runId, 1));
    await Promise.all(attempts.map((a) => a.claim()));
    const before = await nodeCounters(cluster);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      attempts.map(async (attempt) => {
        for (let i = 0; i < tokens; i++) await attempt.append("messages", { i, content: payload });
      }),
    );
    await Promise.all(runIds.map((runId) => writer.end(runId, { status: "success" })));
    const lives = await Promise.all(received);
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const after = await nodeCounters(cluster);
    for (const [k, live] of lives.entries()) {
      const order = live.map((e) => (e.event === "end" ? -1 : (JSON.parse(e.dataJson) as { i: number }).i));
      const expected = [...Array.from({ length: tokens }, (_, i) => i), -1];
      if (order.join() !== expected.join()) throw new Error(`${mode}: run ${runIds[k]} got ${live.length} entries, not ${tokens + 1} in order`);
    }
    for (const leave of subscribed) leave();
    const total = runs * tokens;
    const perNode = after.map((a, i) => a.cpuS - before[i]!.cpuS);
    const redisCpu = perNode.reduce((a, b) => a + b, 0);
    const bus = after.reduce((sum, a, i) => sum + a.busSent - before[i]!.busSent, 0);
    return {
      mode,
      masters: cluster.nodes.length,
      tokens: total,
      wallS,
      redisUsPerToken: (redisCpu * 1e6) / total,
      busiestNodeShare: redisCpu > 0 ? Math.max(...perNode) / redisCpu : 0,
      busMessagesPerToken: bus / total,
      clientUsPerToken: (cpu.user + cpu.system) / total,
    };
  } finally {
    await hub.close();
    // The round's journals, node by node (a private cluster: KEYS is fine here).
    await Promise.all(
      cluster.nodes.map(async (node) => {
        const admin = new Redis({ host: "127.0.0.1", port: node.port });
        try {
          for (const key of await admin.keys(`${prefix}:*`)) await admin.del(key);
        } finally {
          admin.disconnect();
        }
      }),
    );
    await redis.quit();
  }
}

async function collect(it: AsyncIterable<JournalEntry>): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  for await (const entry of it) out.push(entry);
  return out;
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      masters: { type: "string", default: "3,6" },
      runs: { type: "string", default: "40" },
      tokens: { type: "string", default: "300" },
      payload: { type: "string", default: "600" },
      rounds: { type: "string", default: "2" },
      "no-write": { type: "boolean", default: false },
    },
  });
  const sizes = args.masters!.split(",").map(Number);
  const runs = Number(args.runs);
  const tokens = Number(args.tokens);
  const payload = "x".repeat(Number(args.payload));
  const rounds = Number(args.rounds);
  const results: Round[] = [];
  let redisVersion = "unknown";
  for (const masters of sizes) {
    const cluster = await startPrivateRedisCluster(masters);
    try {
      const probe = new Redis({ host: "127.0.0.1", port: cluster.nodes[0]!.port });
      redisVersion = /redis_version:(\S+)/.exec(await probe.info("server"))?.[1] ?? redisVersion;
      probe.disconnect();
      // A warm-up round of each (scripts loaded, connections made, JIT warm), then the measured ones, alternated.
      for (const mode of ["plain", "sharded"] as const) await runRound(cluster, mode, runs, Math.min(tokens, 50), payload, `${masters}-warm-${mode}`);
      for (let r = 0; r < rounds; r++) {
        for (const mode of (r % 2 === 0 ? ["plain", "sharded"] : ["sharded", "plain"]) as Mode[]) {
          console.error(`bench: ${masters} masters, round ${r + 1}/${rounds}, ${mode} …`);
          results.push(await runRound(cluster, mode, runs, tokens, payload, `${masters}-${r}-${mode}`));
        }
      }
    } finally {
      await cluster.stop();
    }
  }

  const command = `npx tsx bench/cluster-pubsub.ts ${process.argv.slice(2).join(" ")}`.trim();
  mkdirSync(path.join(REPO_ROOT, "bench/out"), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, "bench/out/cluster-pubsub.json"), JSON.stringify({ command, runs, tokens, payloadChars: payload.length, results }, null, 2) + "\n");
  const f = (v: number, d = 1) => String(round(v, d));
  const med = (masters: number, mode: Mode, k: keyof Round) => median(results.filter((r) => r.masters === masters && r.mode === mode).map((r) => r[k] as number));
  const lines = [
    `Measured ${new Date().toISOString()} on ${os.availableParallelism()} cores (${os.cpus()[0]?.model?.trim()}), Node ${process.version}, Redis ${redisVersion}. Command: \`${command}\` (raw: \`bench/out/cluster-pubsub.json\`).`,
    "",
    `${runs} runs × ${tokens} entries of ${payload.length} characters each, all runs appending at once with Runline's journal writer (one`,
    "subscriber per run through the journal hub and `subscribeRun`, every entry checked: once each, in order), on private clusters of",
    `M masters (no replicas) on this machine. Medians of ${rounds} rounds per mode, the modes alternated. Redis CPU is every node's`,
    "`used_cpu_user + used_cpu_sys`; the bus column counts the cluster-bus messages the nodes sent (`cluster_stats_messages_sent`).",
    "",
    "| Masters | Mode | Redis CPU per token (µs, all nodes) | Busiest node's share | Cluster-bus messages per token | Writer + hub + subscribers CPU per token (µs) | Tokens/s |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ...sizes.flatMap((m) =>
      (["plain", "sharded"] as const).map(
        (mode) =>
          `| ${m} | ${mode === "plain" ? "plain `PUBLISH`" : "sharded `SPUBLISH`"} | ${f(med(m, mode, "redisUsPerToken"))} | ${f(med(m, mode, "busiestNodeShare") * 100, 0)}% | ${f(med(m, mode, "busMessagesPerToken"), 2)} | ${f(med(m, mode, "clientUsPerToken"))} | ${f(med(m, mode, "tokens") / med(m, mode, "wallS"), 0)} |`,
      ),
    ),
  ];
  const section = lines.join("\n");
  console.log(section);
  if (!args["no-write"]) writeSection(path.join(REPO_ROOT, "bench/RESULTS.md"), "Past one machine: live delivery on a Redis Cluster", section);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
