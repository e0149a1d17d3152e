// Runline "Cancel" benchmark: how long does `POST …/cancel?wait=1&action=interrupt` take (it answers only after the
// partial output is committed), compared with aborting + saving the partial with LangGraph directly, with and
// without 50 other runs streaming, and does any token reach a subscriber after the partial was saved?
//
//   npx tsx bench/cancel-bench.ts                  all 4 cells + the traced phase pass; writes the "Cancel" section
//                                                  of bench/RESULTS.md and bench/out/cancel.json
//   npx tsx bench/cancel-bench.ts --runline-process   Runline in its own OS process (API + worker there; client and
//                                                  baseline here); no phase trace; bench/out/cancel-process.json,
//                                                  shown in the Cancel section below the single-process numbers
//   npx tsx bench/cancel-bench.ts --pg-async-commit   diagnostic: synchronous_commit=off on every Postgres connection
//                                                  (Runline's and the baseline's); bench/out/cancel-async-commit.json
//
// Options: --iterations N (cancels per cell, 100)  --warmup N (5)  --load N (other streaming runs, 50)
//          --tokens N (story length, 400)  --delay MS (10)  --trace N (traced cancels per condition, 40; 0 = none)
//          --render-only (rewrite the Cancel section from bench/out/cancel*.json, measure nothing)
//          --quiet-wait S (wait up to S s for the machine to be quiet before measuring, 180)  --no-write
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { createCheckpointer } from "@runline/checkpoint";
import { createPool } from "@runline/db";
import { compileStoryGraph } from "@runline/graphs";
import { createTestNamespace } from "@runline/testing";
import type { Pool } from "pg";
import { cancelInProcessRun, InProcessLoad, type InProcessCancelSample } from "./lib/cancel-inprocess";
import { renderCancel, summarizeCell, type CancelReport, type CellResult, type LoadInfo } from "./lib/cancel-report";
import { cancelRunlineRun, RunlineLoad, type RunlineCancelSample } from "./lib/cancel-runline";
import { CancelTracer, summarizePhases, type TracedCancel } from "./lib/cancel-trace";
import { rounded } from "./lib/derive";
import { describeEnvironment } from "./lib/environment";
import type { StoryGraph } from "./lib/in-process";
import { writeSection } from "./lib/results-md";
import { pgBackendsOf, QuietGate, startCpuMonitor, taggedDatabaseUrl, waitForQuiet } from "./lib/quiet";
import { procMemoryMb, startInProcessRunline, startRunlineProcess, type RunlineTarget } from "./lib/runline-target";
import type { StoryPace } from "./lib/workload";

const REPO_ROOT = path.resolve(__dirname, "..");
const OUT_DIR = path.join(REPO_ROOT, "bench", "out");
const RESULTS_MD = path.join(REPO_ROOT, "bench", "RESULTS.md");

function readOptions(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      iterations: { type: "string", default: "100" },
      warmup: { type: "string", default: "5" },
      load: { type: "string", default: "50" },
      tokens: { type: "string", default: "400" },
      delay: { type: "string", default: "10" },
      trace: { type: "string", default: "40" },
      "runline-process": { type: "boolean", default: false },
      "pg-async-commit": { type: "boolean", default: false },
      "no-write": { type: "boolean", default: false },
      "quiet-wait": { type: "string", default: "180" },
      "render-only": { type: "boolean", default: false },
    },
  });
  const int = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
    return n;
  };
  return {
    iterations: int("iterations", values.iterations),
    warmup: int("warmup", values.warmup),
    load: int("load", values.load),
    tokens: int("tokens", values.tokens),
    delayMs: int("delay", values.delay),
    trace: int("trace", values.trace),
    runlineProcess: values["runline-process"]!,
    pgAsyncCommit: values["pg-async-commit"]!,
    write: !values["no-write"],
    quietWaitS: int("quiet-wait", values["quiet-wait"]),
    renderOnly: values["render-only"]!,
  };
}
type Options = ReturnType<typeof readOptions>;

/** Tokens to read before cancelling: 10..20, varied so the cancel lands at different points of the pacing. */
const readTokensFor = (i: number) => 10 + ((i * 7) % 11);
/** Load runs: 300–500 tokens, so their ends (and restarts) spread out instead of coming in waves. */
const loadPace = (delayMs: number) => (): StoryPace => ({ tokens: 300 + Math.floor(Math.random() * 201), delayMs });

/**
 * Event-loop lag of THIS process during a cell (the client's, plus API + worker when Runline runs in here). The
 * histogram records each 5 ms timer's actual interval, so the lag is that minus the 5 ms.
 */
function loopMonitor(runlinePid?: number, gate?: QuietGate) {
  const cpu = startCpuMonitor(runlinePid, gate?.ourPgBackends());
  const resolutionMs = 5;
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  const lag = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs);
  return () => {
    h.disable();
    return { p50Ms: lag(h.percentile(50)), p99Ms: lag(h.percentile(99)), maxMs: lag(h.max), cpu: cpu.stop() };
  };
}

async function withDeadline<T>(what: string, p: Promise<T>, ms: number, errors: () => unknown[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setInterval(() => {
          if (errors().length) reject(new Error(`${what}: ${String(errors()[0])}`));
        }, 100);
        setTimeout(() => reject(new Error(`${what}: not reached in ${ms} ms`)), ms).unref();
      }),
    ]);
  } finally {
    clearInterval(timer);
  }
}

interface Ctx {
  gate: QuietGate;
  opts: Options;
  pace: StoryPace;
  target: RunlineTarget;
  graph: StoryGraph;
  checkpointer: BaseCheckpointSaver;
}

/** What both background loads (Runline's SSE clients, in-process graph loops) offer the measurement. */
interface BackgroundLoad {
  streaming: Promise<unknown>;
  errors: unknown[];
  tokensDelivered: number;
  runsCompleted: number;
  stop(): Promise<unknown>;
}

/** Runs `work` while `load` keeps the other runs streaming, and reports the load it ran under. */
async function underLoad<T>(label: string, ctx: Ctx, load: BackgroundLoad, work: () => Promise<T>): Promise<{ result: T; load: LoadInfo }> {
  await withDeadline(`${label} load ramp-up`, load.streaming, 120_000, () => load.errors);
  await sleep(500);
  const t0 = performance.now();
  const tokens0 = load.tokensDelivered;
  const result = await work();
  const seconds = (performance.now() - t0) / 1000;
  const info: LoadInfo = { runs: ctx.opts.load, loadTokensPerSecond: (load.tokensDelivered - tokens0) / seconds, loadRunsCompleted: load.runsCompleted };
  await load.stop();
  info.loadRunsCompleted = load.runsCompleted;
  return { result, load: info };
}

function runlineLoaded<T>(ctx: Ctx, work: () => Promise<T>) {
  return underLoad("Runline", ctx, new RunlineLoad(ctx.target.url, ctx.opts.load, loadPace(ctx.pace.delayMs)).start(), work);
}

function inProcessLoaded<T>(ctx: Ctx, work: () => Promise<T>) {
  return underLoad("in-process", ctx, new InProcessLoad(ctx.graph, ctx.opts.load, loadPace(ctx.pace.delayMs)).start(), work);
}

const runlineOnce = (ctx: Ctx, i: number) => cancelRunlineRun(ctx.target.url, ctx.pace, readTokensFor(i));
const inProcessOnce = (ctx: Ctx, i: number) => cancelInProcessRun(ctx.graph, ctx.checkpointer, ctx.pace, readTokensFor(i));

async function series<T>(gate: QuietGate, n: number, label: string, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await gate.measure(() => one(i)));
    await sleep(20); // the previous run's tail (BullMQ completion, stream close) out of the way
    if ((i + 1) % 25 === 0) console.error(`bench:   ${label} ${i + 1}/${n}`);
  }
  return out;
}

async function main(): Promise<void> {
  const opts = readOptions();
  if (opts.renderOnly) {
    // Re-renders the Cancel section from the JSON files in bench/out (e.g. after a change to the report's text).
    const section = renderCancel(OUT_DIR);
    console.log(section);
    if (opts.write) writeSection(RESULTS_MD, "Cancel", section);
    return;
  }
  const pace: StoryPace = { tokens: opts.tokens, delayMs: opts.delayMs };
  const ns = await createTestNamespace("cancelbench");
  let target: RunlineTarget | undefined;
  let basePool: Pool | undefined;
  try {
    // Every connection of ours (Runline's and the baseline's) carries application_name = pgTag, so the QuietGate can
    // tell our Postgres backends from other sessions'. --pg-async-commit (diagnostic only) adds
    // `-c synchronous_commit=off`; the URL's `options` replace the pool's (pg merges the parsed URL over the
    // config), so the search_path goes in there too.
    const pgTag = `bench-${ns.id}`;
    const databaseUrl = taggedDatabaseUrl(ns.databaseUrl, pgTag, opts.pgAsyncCommit ? { schema: ns.schema, options: "-c synchronous_commit=off" } : undefined);
    target = opts.runlineProcess ? await startRunlineProcess(ns, { databaseUrl }) : await startInProcessRunline(ns, { databaseUrl });
    basePool = createPool(databaseUrl, ns.schema);
    if (opts.pgAsyncCommit) {
      const setting = (await basePool.query("SHOW synchronous_commit")).rows[0]?.synchronous_commit;
      if (setting !== "off") throw new Error(`--pg-async-commit: the baseline pool still has synchronous_commit=${setting}`);
    }
    const checkpointer = (await createCheckpointer(basePool, ns.schema)) as unknown as BaseCheckpointSaver;
    const graph = compileStoryGraph(checkpointer);
    const pgCheckpoints = async () =>
      Number((await basePool!.query("SELECT checkpoints_timed + checkpoints_req AS n FROM pg_stat_bgwriter")).rows[0]?.n ?? Number.NaN);
    const checkpointsDuring: Record<string, number> = {};
    const gate = new QuietGate([process.pid, target.pid], pgBackendsOf(basePool, pgTag));
    const ctx: Ctx = { gate, opts, pace, target, graph, checkpointer };
    const discards: Record<string, { discarded: number; waitedMs: number; keptOthersP50?: number; keptOthersMax?: number }> = {};
    const gateMark = () => ({ d: gate.discarded, w: gate.waitedMs, k: gate.keptOthers.length });
    const gateSince = (name: string, m: { d: number; w: number; k: number }) => {
      const kept = gate.keptOthers.slice(m.k);
      discards[name] = {
        discarded: gate.discarded - m.d,
        waitedMs: gate.waitedMs - m.w,
        keptOthersP50: kept.length ? [...kept].sort((a, b) => a - b)[Math.floor(kept.length / 2)] : Number.NaN,
        keptOthersMax: kept.length ? Math.max(...kept) : Number.NaN,
      };
    };
    const env = await describeEnvironment(ns.redis, ns.pool);
    console.error(`bench: Runline (${target.mode}, pid ${target.pid}) at ${target.url}, namespace ${ns.id}, ${env.nproc} cores, node ${env.node}`);

    const quiet = await waitForQuiet(opts.quietWaitS * 1000);
    console.error(`bench: warm-up, ${opts.warmup} cancels per side …`);
    for (let i = 0; i < opts.warmup; i++) {
      await runlineOnce(ctx, i);
      await inProcessOnce(ctx, i);
    }

    console.error(`bench: idle, ${opts.iterations} cancels per side, interleaved …`);
    const idleRunline: RunlineCancelSample[] = [];
    const idleInProcess: InProcessCancelSample[] = [];
    let c0 = await pgCheckpoints();
    let g0 = gateMark();
    let stopLoop = loopMonitor(target.pid, gate);
    for (let i = 0; i < opts.iterations; i++) {
      const runlineFirst = i % 2 === 0;
      // A pair is kept only if nobody else used the machine meanwhile (else both are re-taken).
      const pair = await gate.measure(async () => {
        const a = runlineFirst ? await runlineOnce(ctx, i) : null;
        await sleep(20);
        const b = await inProcessOnce(ctx, i);
        await sleep(20);
        const c = runlineFirst ? a! : await runlineOnce(ctx, i);
        return { runline: c, inProcess: b };
      });
      idleRunline.push(pair.runline);
      idleInProcess.push(pair.inProcess);
      await sleep(20);
      if ((i + 1) % 25 === 0) console.error(`bench:   idle ${i + 1}/${opts.iterations}`);
    }
    const idleLoop = stopLoop();
    gateSince("idle", g0);
    checkpointsDuring.idle = (await pgCheckpoints()) - c0;

    console.error(`bench: loaded (Runline), ${opts.load} other runs streaming, ${opts.iterations} cancels …`);
    c0 = await pgCheckpoints();
    g0 = gateMark();
    stopLoop = loopMonitor(target.pid, gate);
    const loadedRl = await runlineLoaded(ctx, () => series(ctx.gate, opts.iterations, "loaded Runline", (i) => runlineOnce(ctx, i)));
    const loadedRlLoop = stopLoop();
    gateSince("loadedRunline", g0);
    checkpointsDuring.loadedRunline = (await pgCheckpoints()) - c0;

    console.error(`bench: loaded (in-process), ${opts.load} other graph runs streaming, ${opts.iterations} cancels …`);
    c0 = await pgCheckpoints();
    g0 = gateMark();
    stopLoop = loopMonitor(target.pid, gate);
    const loadedIp = await inProcessLoaded(ctx, () => series(ctx.gate, opts.iterations, "loaded in-process", (i) => inProcessOnce(ctx, i)));
    const loadedIpLoop = stopLoop();
    gateSince("loadedInProcess", g0);
    checkpointsDuring.loadedInProcess = (await pgCheckpoints()) - c0;

    let trace: CancelReport["trace"] = null;
    if (opts.trace > 0 && target.mode === "in-process") {
      console.error(`bench: traced pass, ${opts.trace} cancels idle + ${opts.trace} loaded …`);
      const tracer = new CancelTracer();
      tracer.install(pregelPrototype(graph));
      try {
        const idle = await tracedSeries(ctx, tracer, opts.trace);
        const loaded = (await runlineLoaded(ctx, () => tracedSeries(ctx, tracer, opts.trace))).result;
        const relative = (xs: TracedCancel[]) =>
          xs.map((t) => ({ totalMs: t.response - t.request, marksMs: Object.fromEntries(Object.entries(t.marks).map(([k, v]) => [k, v! - t.request])) }));
        trace = { idle: summarizePhases(idle), loaded: summarizePhases(loaded), n: opts.trace, raw: { idle: relative(idle), loaded: relative(loaded) } };
      } finally {
        tracer.uninstall();
      }
    }

    const cells: CellResult[] = [
      summarizeCell("runline", "idle", idleRunline, null, idleLoop),
      summarizeCell("in-process", "idle", idleInProcess, null, idleLoop),
      summarizeCell("runline", "loaded", loadedRl.result, loadedRl.load, loadedRlLoop),
      summarizeCell("in-process", "loaded", loadedIp.result, loadedIp.load, loadedIpLoop),
    ];
    const runlineMemory = target.mode === "own-process" ? procMemoryMb(target.pid) : null;
    const command = `npx tsx bench/cancel-bench.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
    const report: CancelReport = rounded({
      env,
      command,
      mode: target.mode,
      options: opts,
      pace,
      cells,
      trace,
      runlineMemory,
      quietBeforeStart: quiet,
      discards,
      pgCheckpointsDuring: checkpointsDuring,
      raw: {
        idleRunline,
        idleInProcess,
        loadedRunline: loadedRl.result,
        loadedInProcess: loadedIp.result,
      },
    });
    mkdirSync(OUT_DIR, { recursive: true });
    if (opts.runlineProcess && opts.pgAsyncCommit) throw new Error("--runline-process and --pg-async-commit: pick one");
    const jsonName = opts.runlineProcess ? "cancel-process.json" : opts.pgAsyncCommit ? "cancel-async-commit.json" : "cancel.json";
    writeFileSync(path.join(OUT_DIR, jsonName), JSON.stringify(report, null, 2) + "\n");
    const section = renderCancel(OUT_DIR);
    console.log(section);
    if (opts.write) writeSection(RESULTS_MD, "Cancel", section);
    console.error(`bench: wrote bench/out/${jsonName}${opts.write ? " and the Cancel section of bench/RESULTS.md" : ""}`);
  } finally {
    await target?.close();
    await basePool?.end();
    await ns.cleanup();
  }
}

/** The prototype that owns getState/updateState (LangGraph's Pregel), from a compiled graph. */
function pregelPrototype(graph: object): object {
  let proto = Object.getPrototypeOf(graph);
  while (proto && !Object.prototype.hasOwnProperty.call(proto, "updateState")) proto = Object.getPrototypeOf(proto);
  if (!proto) throw new Error("no updateState on the compiled graph's prototype chain");
  return proto;
}

async function tracedSeries(ctx: Ctx, tracer: CancelTracer, n: number): Promise<TracedCancel[]> {
  const out: TracedCancel[] = [];
  for (let i = 0; i < n; i++) {
    const s = await ctx.gate.measure(() => runlineOnce(ctx, i));
    out.push({ request: s.clock.request, response: s.clock.response, marks: tracer.marks(s.runId) });
    await sleep(20);
  }
  return out;
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error("bench: FAILED:", err);
    process.exit(1);
  },
);
