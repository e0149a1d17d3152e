// Where does the worker's graph-side CPU go? Drives the engine's real `executeRun` in this process with a sink
// that only JSON-encodes (no Redis, no HTTP), toggling one ingredient at a time, and compares the CPU per token
// with a plain `graph.stream` of the same story graph. Checkpointer: MemorySaver (same for every variant, so
// the differences are the executor's). Delay 0 by default, so CPU is the whole cost.
//   Run: [DELAY_MS=10] node --expose-gc --import tsx bench/micro/executor-overhead.ts [text]
//   ([text]: only the variants whose name contains it, e.g. to profile one with --cpu-prof)
// (--expose-gc lets each measurement start from a collected heap; without it, GC pauses landing at random make
// differences under ~30 µs/token unreliable.)
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { MemorySaver } from "@langchain/langgraph";
import { encodeEventData, type RunRecord } from "@runline/core";
import { executeRun, PartialCollector, RunSettledHandler, WORKER_STREAM_MODES, type RunnableGraph } from "@runline/engine";
import { compileStoryGraph, createChatModelFactory, CHAT_MODEL_CONTEXT_KEY } from "@runline/graphs";
import { createJournalWriter, type JournalWriter } from "@runline/journal";
import { createRedis } from "@runline/queue";
import { testServiceUrls } from "@runline/testing";
import { median } from "../lib/stats";
import { storyInput } from "../lib/workload";

const RUNS = 50; // concurrent, as in the Foundation scenario
const TOKENS = 100;
const REPEATS = 9;
// DELAY_MS=10 paces the model as the CPU benchmark does: fewer tokens per event-loop turn, so per-turn costs show.
const DELAY_MS = Number(process.env.DELAY_MS ?? 0);

const graph = compileStoryGraph(new MemorySaver());
const chatModels = createChatModelFactory({ provider: "story", story: { tokens: TOKENS, delayMs: DELAY_MS } });
const pace = { story_tokens: TOKENS, story_token_delay_ms: DELAY_MS };

/** A run record as the API would create it for `POST /threads/{tid}/runs/stream` with our body. */
function runRecord(): RunRecord {
  const id = randomUUID();
  return {
    run_id: id, thread_id: randomUUID(), tenant_id: "default", assistant_id: "fe096781-5601-53d2-b2f6-0d3403f7e9ca", graph_id: "story",
    status: "running", metadata: {}, multitask_strategy: "enqueue", attempt: 1, error: null, cancel_action: null, cancel_requested_at: null,
    partial: null, start_checkpoint_id: null, start_checkpoint_recorded: true, created_at: "", updated_at: "", started_at: null, finished_at: null,
    kwargs: {
      input: storyInput(), command: null, config: { configurable: pace }, context: null, stream_mode: ["values", "messages-tuple"],
      stream_subgraphs: false, stream_resumable: false, on_disconnect: "continue", interrupt_before: null, interrupt_after: null, checkpoint: null,
    },
  } as unknown as RunRecord;
}

type Variant = { name: string; run: () => Promise<number>; after?: () => void };

const encodeSink = () => ({ push: (_e: string, data: unknown) => void encodeEventData(data) });

/** The worker's journal on the test Redis, under a prefix of its own (its keys are removed at the end). */
const journalPrefix = `bench-executor-${randomUUID()}`;
let journalWriter: { redis: ReturnType<typeof createRedis>; writer: JournalWriter } | null = null;
function realJournal() {
  if (!journalWriter) {
    const redis = createRedis(testServiceUrls().redisUrl);
    journalWriter = { redis, writer: createJournalWriter(redis, journalPrefix, { retentionSeconds: 60 }) };
  }
  return journalWriter.writer;
}

/** The run's own attempt journal, claimed, as the worker appends through it. */
async function journalSink(runId: string) {
  const journal = realJournal().forAttempt(runId, 1);
  await journal.claim();
  return { push: (e: string, d: unknown) => journal.push(e, d), flush: () => journal.flush() };
}

function executorVariant(name: string, opts: { callbacks?: "inherited" | "root-only"; journal?: boolean }): Variant {
  return {
    name,
    async run() {
      const run = runRecord();
      const settled = new RunSettledHandler(run.run_id);
      const callbacks = opts.callbacks === "inherited" ? [settled] : opts.callbacks === "root-only" ? settled.rootCallbacks() : undefined;
      let tokens = 0;
      const sink = opts.journal ? await journalSink(run.run_id) : encodeSink();
      await executeRun({
        graph: graph as unknown as RunnableGraph,
        run,
        sink: { push: (e, d) => (e === "messages" && tokens++, sink.push(e, d)) },
        signal: new AbortController().signal,
        collector: new PartialCollector(),
        context: { [CHAT_MODEL_CONTEXT_KEY]: chatModels },
        callbacks,
      });
      await (sink as { flush?: () => Promise<void> }).flush?.();
      return tokens;
    },
  };
}

function streamVariant(name: string, modes: readonly string[], withSignal: boolean): Variant {
  return {
    name,
    async run() {
      let tokens = 0;
      const stream = await graph.stream(storyInput(), {
        streamMode: [...modes] as never,
        configurable: { thread_id: randomUUID(), ...pace },
        ...(withSignal && { signal: new AbortController().signal }),
      });
      for await (const [mode] of stream as AsyncIterable<[string]>) if (mode === "messages") tokens++;
      return tokens;
    },
  };
}

/**
 * `inner` run inside `count` more AsyncLocalStorage contexts, as the worker runs the graph (the attempt fence and
 * the pinned pool each have one, module-wide; LangGraph has its own). Node copies every enabled storage's value
 * onto every new promise, so each one adds to every promise's cost. Disabled after each measurement, so the other
 * variants do not pay for them.
 */
function withStorages(count: number, inner: Variant): Variant {
  const storages = Array.from({ length: count }, () => new AsyncLocalStorage<object>());
  const nest = (i: number): Promise<number> => (i === count ? inner.run() : storages[i]!.run({}, () => nest(i + 1)));
  return {
    name: `${inner.name}, inside ${count} more AsyncLocalStorage`,
    run: () => nest(0),
    after: () => storages.forEach((s) => s.disable()),
  };
}

const VARIANTS: Variant[] = [
  streamVariant("graph.stream, 2 modes (the baseline)", ["messages", "values"], false),
  streamVariant("graph.stream, the worker's 4 modes", WORKER_STREAM_MODES, false),
  streamVariant("graph.stream, 4 modes + abort signal", WORKER_STREAM_MODES, true),
  executorVariant("executeRun, no callbacks (adds wire format + encode)", {}),
  executorVariant("executeRun + RunSettledHandler, inherited by every child run", { callbacks: "inherited" }),
  executorVariant("executeRun + RunSettledHandler on the root run (as the worker)", { callbacks: "root-only" }),
  executorVariant("… + the attempt journal on Redis (client side only)", { callbacks: "root-only", journal: true }),
  withStorages(1, streamVariant("graph.stream, 2 modes", ["messages", "values"], false)),
  withStorages(2, streamVariant("graph.stream, 2 modes", ["messages", "values"], false)),
];

async function cpuPerToken(v: Variant): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.cpuUsage();
  const tokens = await Promise.all(Array.from({ length: RUNS }, () => v.run()));
  const used = process.cpuUsage(start);
  v.after?.();
  if (tokens.some((t) => t !== TOKENS)) throw new Error(`${v.name}: expected ${TOKENS} tokens per run, got ${tokens.join(",")}`);
  return (used.user + used.system) / (RUNS * TOKENS);
}

async function main() {
  const only = process.argv[2];
  const variants = only ? VARIANTS.filter((v) => v.name.includes(only)) : VARIANTS;
  for (const v of variants) await cpuPerToken(v); // warm-up every path
  const results = new Map(variants.map((v) => [v.name, [] as number[]]));
  for (let r = 0; r < REPEATS; r++) for (const v of variants) results.get(v.name)!.push(await cpuPerToken(v));
  const base = median(results.get(variants[0]!.name)!);
  console.log(`${RUNS} concurrent runs × ${TOKENS} tokens, delay ${DELAY_MS} ms, median of ${REPEATS}:`);
  for (const [name, xs] of results) {
    const us = median(xs);
    console.log(`  ${name.padEnd(54)} ${us.toFixed(1).padStart(6)} µs CPU per token  (+${(us - base).toFixed(1)})`);
  }
}

async function cleanup() {
  if (!journalWriter) return;
  const keys = await journalWriter.redis.keys(`${journalPrefix}*`);
  for (let i = 0; i < keys.length; i += 500) await journalWriter.redis.del(...keys.slice(i, i + 500));
  await journalWriter.redis.quit();
}

main()
  .finally(cleanup)
  .then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
