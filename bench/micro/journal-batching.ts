// Micro-benchmark for a proposed change to the journal writer's Redis connection: `enableAutoPipelining`.
// The Foundation CPU profile shows one socket write (≈8% of Runline's busy CPU in `writeUtf8String`) per
// journal append. ioredis 5 auto-pipelining collects the commands issued during one event-loop turn and sends
// them with one write (it flushes from setImmediate, so appends from many runs' timer callbacks coalesce).
// This runs the project's createJournalWriter on a plain and on an auto-pipelined connection with the
// Foundation's concurrent shape (50 runs × 100 tokens, 10 ms apart), and reports CPU per append, append→reply
// latency, and that every stream came back complete and in order.   Run: npx tsx bench/micro/journal-batching.ts
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { createJournalWriter, journalKeys } from "@runline/journal";
import { createTestNamespace } from "@runline/testing";
import Redis from "ioredis";
import { median, summarize } from "../lib/stats";

const RUNS = 50;
const TOKENS = 100;
const DELAY_MS = 10;

/** ≈ one `messages` event as the worker journals it (783 bytes of JSON in the Foundation run). */
function tokenEvent(runId: string, i: number) {
  return [
    { content: ` word${i}`, id: `run-${runId}`, tool_calls: [], invalid_tool_calls: [], tool_call_chunks: [], additional_kwargs: {}, response_metadata: {}, type: "ai" },
    {
      tags: [], name: "llm", ls_integration: "langchain_chat_model", thread_id: runId, langgraph_step: 1, langgraph_node: "llm",
      langgraph_triggers: ["branch:to:llm"], langgraph_path: ["__pregel_pull", "llm"], langgraph_checkpoint_ns: `llm:${runId}`,
      checkpoint_ns: `llm:${runId}`, ls_model_type: "chat", ls_stop: null, ls_provider: "runline", ls_model_name: "runline-story",
      run_id: runId, graph_id: "story", assistant_id: "fe096781-5601-53d2-b2f6-0d3403f7e9ca", seq: i,
    },
  ];
}

async function simulate(redis: Redis, prefix: string, label: string) {
  const writer = createJournalWriter(redis, prefix);
  await writer.append("warmup", "messages", tokenEvent("warmup", 0)); // loads the script on the connection
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: RUNS }, async (_, r) => {
      const runId = `${label}-${r}`;
      for (let i = 0; i < TOKENS; i++) {
        await sleep(DELAY_MS);
        const t = performance.now();
        // Fire-and-forget as executeRun does; the latency sample is taken when the reply arrives.
        void writer.append(runId, "messages", tokenEvent(runId, i)).then(() => latencies.push(performance.now() - t));
      }
      await writer.flush(runId);
    }),
  );
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  await verify(redis, prefix, label);
  const lat = summarize(latencies);
  console.log(
    `${label.padEnd(16)} wall ${wallMs.toFixed(0)} ms, CPU ${cpuMs.toFixed(0)} ms = ${((cpuMs * 1000) / (RUNS * TOKENS)).toFixed(1)} µs per append ` +
      `(incl. the pacing timers), append→reply p50 ${lat.p50.toFixed(2)} ms, p95 ${lat.p95.toFixed(2)} ms`,
  );
  return cpuMs;
}

/** Every run's stream holds exactly its tokens, in order. */
async function verify(redis: Redis, prefix: string, label: string) {
  for (let r = 0; r < RUNS; r++) {
    const runId = `${label}-${r}`;
    const entries = await redis.xrange(journalKeys(prefix).events(runId), "-", "+");
    const seqs = entries.map(([, fields]) => JSON.parse(fields[fields.indexOf("d") + 1]!)[1].seq as number);
    if (seqs.length !== TOKENS || seqs.some((s, i) => s !== i)) throw new Error(`${runId}: stream out of order or incomplete`);
  }
}

async function main() {
  const ns = await createTestNamespace("bench_journal");
  const plain = new Redis(ns.redisUrl, { maxRetriesPerRequest: null });
  const batched = new Redis(ns.redisUrl, { maxRetriesPerRequest: null, enableAutoPipelining: true });
  try {
    // Three rounds each, alternating, so warm-up and drift do not favour either.
    const results = { plain: [] as number[], batched: [] as number[] };
    for (let round = 0; round < 3; round++) {
      results.plain.push(await simulate(plain, ns.redisPrefix, `plain-${round}`));
      results.batched.push(await simulate(batched, ns.redisPrefix, `autopipeline-${round}`));
    }
    const saved = 1 - median(results.batched) / median(results.plain);
    console.log(`CPU saved by auto-pipelining: ${(100 * saved).toFixed(0)}% of this workload's CPU (medians of 3); all streams complete and in order`);
  } finally {
    await plain.quit();
    await batched.quit();
    await ns.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
