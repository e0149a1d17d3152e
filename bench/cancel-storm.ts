// Runline "Cancel storm" benchmark: K runs streaming, all cancelled at the same moment (`POST …/cancel?wait=1`,
// which answers only once the partial output is committed), against K in-process LangGraph runs aborted at the
// same moment and their partials saved the way Runline's worker does it, in the same run. Then one cancel at a
// time while 50 other runs stream (the loaded cell of bench/cancel-bench.ts, shorter).
//
//   npx tsx bench/cancel-storm.ts       writes the "Cancel storm" section of bench/RESULTS.md and bench/out/cancel-storm.json
//
// Options: --sizes 50,200 (runs per storm)  --rounds N (storms per size and side, 3)  --read N (tokens each run
//          delivers before the storm, 10)  --token-rate N (tokens/s of all storm runs together, 5000: the pacing
//          is K / rate, so every size streams the same load while it waits)  --loaded N (cancels under load, 30;
//          0 = skip)  --load N (other runs streaming meanwhile, 50)  --profile DIR (CPU profile of Runline)  --no-write
//
// Runline runs in its own OS process (`apps/runline/src/main.ts`, defaults); the clients and the baseline run here.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { createCheckpointer } from "@runline/checkpoint";
import { createPool } from "@runline/db";
import { compileStoryGraph } from "@runline/graphs";
import { createTestNamespace } from "@runline/testing";
import { prepareInProcessCancel } from "./lib/cancel-inprocess";
import { cancelRunlineRun, prepareRunlineCancel, RunlineLoad } from "./lib/cancel-runline";
import { describeEnvironment } from "./lib/environment";
import { profilerClockMicros } from "./lib/memory";
import { startCpuMonitor } from "./lib/quiet";
import { writeSection } from "./lib/results-md";
import { startProcMemorySampler, startRunlineProcess } from "./lib/runline-target";
import { percentile, round } from "./lib/stats";
import type { StoryPace } from "./lib/workload";

const REPO_ROOT = path.resolve(__dirname, "..");
const OUT_DIR = path.join(REPO_ROOT, "bench", "out");
const RESULTS_MD = path.join(REPO_ROOT, "bench", "RESULTS.md");

function readOptions(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: "string", default: "50,200" },
      rounds: { type: "string", default: "3" },
      read: { type: "string", default: "10" },
      "token-rate": { type: "string", default: "5000" },
      loaded: { type: "string", default: "30" },
      load: { type: "string", default: "50" },
      "no-write": { type: "boolean", default: false },
      profile: { type: "string" },
    },
  });
  const int = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
    return n;
  };
  return {
    sizes: values.sizes!.split(",").map((v) => int("sizes", v)),
    rounds: int("rounds", values.rounds),
    read: int("read", values.read),
    tokenRate: int("token-rate", values["token-rate"]),
    loaded: int("loaded", values.loaded),
    load: int("load", values.load),
    write: !values["no-write"],
    /** Writes a CPU profile of the Runline process into this directory (`node --cpu-prof`). */
    profileDir: values.profile,
  };
}

interface Latencies {
  /** Every cancel's latency, all rounds together (ms). */
  all: number[];
  /** Runline only: where each cancel's time went, from journal ids (see `RunlineCancelSample.journal`). */
  phases?: Array<{ requestToValuesMs: number; valuesToEndMs: number; endToResponseMs: number }>;
  /** Per round: the last cancel's latency, i.e. the storm's duration as its slowest client saw it. */
  roundMax: number[];
}

const stats = (xs: number[]) => ({ n: xs.length, p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99), max: Math.max(...xs) });

/** A story long enough that no run ends on its own before the storm: read + 60 s of tokens. */
function stormPace(size: number, tokenRate: number, read: number): StoryPace {
  const delayMs = Math.max(1, Math.round((size * 1000) / tokenRate));
  return { delayMs, tokens: read + Math.ceil(60_000 / delayMs) };
}

async function main(): Promise<void> {
  const opts = readOptions();
  const ns = await createTestNamespace("cancelstorm");
  const target = await startRunlineProcess(ns, opts.profileDir ? { nodeArgs: ["--cpu-prof", "--cpu-prof-dir", path.resolve(opts.profileDir)] } : {});
  const basePool = createPool(ns.databaseUrl, ns.schema);
  try {
    const checkpointer = (await createCheckpointer(basePool, ns.schema)) as unknown as BaseCheckpointSaver;
    const graph = compileStoryGraph(checkpointer);
    const env = await describeEnvironment(ns.redis, ns.pool);
    console.error(`bench: Runline own process pid ${target.pid} at ${target.url}; ${env.nproc} cores`);

    // Warm-up: both sides' code paths compiled before anything is timed.
    for (let i = 0; i < 3; i++) await cancelRunlineRun(target.url, { tokens: 200, delayMs: 10 }, 5);
    await Promise.all((await Promise.all([0, 1, 2].map(() => prepareInProcessCancel(graph, checkpointer, { tokens: 200, delayMs: 10 }, 5)))).map((r) => r.cancel()));

    // The profiler's clock for each Runline storm, so `summarize-cpuprofile.ts --window storm-50` sees only those.
    const windows: Array<{ label: string; startUs: number; endUs: number }> = [];
    const storms: Array<{ size: number; pace: StoryPace; runline: Latencies; inProcess: Latencies; partialTokens: { min: number; max: number }; runlineCpu: unknown; runlinePeakRssMb: number }> = [];
    for (const size of opts.sizes) {
      const pace = stormPace(size, opts.tokenRate, opts.read);
      const runline: Latencies = { all: [], roundMax: [], phases: [] };
      const inProcess: Latencies = { all: [], roundMax: [] };
      let minTokens = Infinity;
      let maxTokens = 0;
      let runlineCpu: unknown = null;
      let peakRss = 0;
      for (let round = 0; round < opts.rounds; round++) {
        // Alternate which side storms first, so neither always follows the other's tail.
        const sides = round % 2 === 0 ? (["runline", "inProcess"] as const) : (["inProcess", "runline"] as const);
        for (const side of sides) {
          console.error(`bench: storm of ${size}, round ${round + 1}/${opts.rounds}, ${side} (${pace.delayMs} ms per token) …`);
          if (side === "runline") {
            const ready = await Promise.all(Array.from({ length: size }, () => prepareRunlineCancel(target.url, pace, opts.read)));
            const memory = startProcMemorySampler(target.pid);
            const cpu = startCpuMonitor(target.pid);
            const startUs = profilerClockMicros();
            const samples = await Promise.all(ready.map((r) => r.cancel()));
            windows.push({ label: `storm-${size}`, startUs, endUs: profilerClockMicros() });
            runlineCpu = cpu.stop();
            peakRss = Math.max(peakRss, memory.stop().peakRssMb);
            for (const s of samples) {
              minTokens = Math.min(minTokens, s.partialTokenCount);
              maxTokens = Math.max(maxTokens, s.partialTokenCount);
            }
            runline.all.push(...samples.map((s) => s.latencyMs));
            runline.phases!.push(...samples.map((s) => s.journal));
            runline.roundMax.push(Math.max(...samples.map((s) => s.latencyMs)));
          } else {
            const ready = await Promise.all(Array.from({ length: size }, () => prepareInProcessCancel(graph, checkpointer, pace, opts.read)));
            const samples = await Promise.all(ready.map((r) => r.cancel()));
            inProcess.all.push(...samples.map((s) => s.latencyMs));
            inProcess.roundMax.push(Math.max(...samples.map((s) => s.latencyMs)));
          }
          await sleep(500); // the storm's tail (job completions, stream closes) out of the way
        }
      }
      storms.push({ size, pace, runline, inProcess, partialTokens: { min: minTokens, max: maxTokens }, runlineCpu, runlinePeakRssMb: peakRss });
    }

    let loaded: { load: number; latencies: number[]; loadTokensPerSecond: number } | null = null;
    if (opts.loaded > 0) {
      console.error(`bench: ${opts.loaded} cancels, one at a time, while ${opts.load} other runs stream …`);
      const load = new RunlineLoad(target.url, opts.load, () => ({ tokens: 300 + Math.floor(Math.random() * 201), delayMs: 10 })).start();
      await load.streaming;
      const t0 = performance.now();
      const tokens0 = load.tokensDelivered;
      const latencies: number[] = [];
      for (let i = 0; i < opts.loaded; i++) {
        latencies.push((await cancelRunlineRun(target.url, { tokens: 400, delayMs: 10 }, 10 + ((i * 7) % 11))).latencyMs);
        await sleep(20);
      }
      const loadTokensPerSecond = (load.tokensDelivered - tokens0) / ((performance.now() - t0) / 1000);
      await load.stop();
      loaded = { load: opts.load, latencies, loadTokensPerSecond };
    }

    const report = { env, command: `npx tsx bench/cancel-storm.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(" ")}` : ""}`, options: opts, storms, loaded };
    mkdirSync(OUT_DIR, { recursive: true });
    if (opts.profileDir) writeFileSync(path.join(opts.profileDir, "windows.json"), JSON.stringify(windows, null, 2) + "\n");
    writeFileSync(path.join(OUT_DIR, "cancel-storm.json"), JSON.stringify(report, null, 2) + "\n");
    const section = render(report);
    console.log(section);
    if (opts.write) writeSection(RESULTS_MD, "Cancel storm", section);
  } finally {
    await target.close();
    await basePool.end();
    await ns.cleanup();
  }
}

function render(report: { env: Awaited<ReturnType<typeof describeEnvironment>>; command: string; options: ReturnType<typeof readOptions>; storms: any[]; loaded: any }): string {
  const { env, options } = report;
  const f = (v: number) => (Number.isFinite(v) ? String(round(v, 1)) : "–");
  const lines = [
    `Measured ${env.date} on ${env.nproc} cores (${env.cpuModel}), Node ${env.node}; Redis ${env.redis}, Postgres ${env.postgres}. Code: git ${env.git}.`,
    "",
    `Command: \`${report.command}\` (raw numbers: \`bench/out/cancel-storm.json\`).`,
    "",
    `- **Storm**: K story runs stream (each on its own thread, read by an SSE client in the bench process), each has`,
    `  delivered ${options.read} tokens; then all K cancels are sent at once: \`POST …/cancel?wait=1&action=interrupt\`,`,
    "  which answers after the partial is committed. Latency = request sent → response parsed. Every response is",
    "  checked: `outcome: cancelled`, a partial with ≥ 1 token, and the stream's `end` carries the same partial.",
    `  The pacing is K / ${options.tokenRate} s per token, so every storm size streams ${options.tokenRate} tokens/s in all while it waits.`,
    "- **In-process**: the same K runs with `graph.stream` and the same Postgres saver, all aborted at once, each",
    "  partial saved the way Runline's worker does it (`RunSettledHandler` + `savePartialOutput`); latency = abort → saved.",
    "- Runline runs in its own process with `npm start` defaults; the clients and the baseline in the bench process.",
    "",
    "| Storm | Runline p50 / p95 / max (ms) | In-process p50 / p95 / max (ms) | Ratio p50 | Partials (tokens, min–max) | Runline CPU during the storm |",
    "| --- | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const s of report.storms) {
    const r = stats(s.runline.all);
    const b = stats(s.inProcess.all);
    const cpu = s.runlineCpu as { runlineCores: number; servicesCores: number; benchCores: number } | null;
    lines.push(
      `| ${s.size} at once (${s.pace.delayMs} ms/token, ${options.rounds} rounds) | ${f(r.p50)} / ${f(r.p95)} / ${f(r.max)} | ${f(b.p50)} / ${f(b.p95)} / ${f(b.max)} | ${round(r.p50 / b.p50, 2)}× | ${s.partialTokens.min}–${s.partialTokens.max} | ${cpu ? `${round(cpu.runlineCores, 2)} cores (Postgres + Redis ${round(cpu.servicesCores, 2)}, bench ${round(cpu.benchCores, 2)})` : "–"}; peak RSS ${Math.round(s.runlinePeakRssMb)} MB |`,
    );
  }
  lines.push("", "Where a storm cancel's time goes in Runline (p50 / max, ms; from the journal ids, Redis ms clock):", "");
  lines.push("| Storm | request → partial saved (final `values` appended) | `values` → `end` (run row finished) | `end` → response parsed |", "| --- | ---: | ---: | ---: |");
  for (const s of report.storms) {
    const col = (k: string) => { const xs = s.runline.phases.map((p: any) => p[k]); return `${f(percentile(xs, 50))} / ${f(Math.max(...xs))}`; };
    lines.push(`| ${s.size} at once | ${col("requestToValuesMs")} | ${col("valuesToEndMs")} | ${col("endToResponseMs")} |`);
  }
  if (report.loaded) {
    const l = stats(report.loaded.latencies);
    lines.push(
      "",
      `**One cancel while ${report.loaded.load} other runs stream** (${report.loaded.latencies.length} cancels in series, 400-token story at 10 ms, cancelled after 10–20 tokens; the load delivered ${Math.round(report.loaded.loadTokensPerSecond)} tokens/s): p50 ${f(l.p50)} ms, p95 ${f(l.p95)} ms, p99 ${f(l.p99)} ms, max ${f(l.max)} ms.`,
    );
  }
  lines.push("", "Goals (#12): storm p50 ≤ 50 ms and max ≤ 200 ms at 50 and at 200; one cancel under load p50 ≤ 25 ms, p99 ≤ 100 ms.");
  return lines.join("\n");
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error("bench: FAILED:", err);
    process.exit(1);
  },
);
