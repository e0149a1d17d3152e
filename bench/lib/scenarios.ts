import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { streamInProcess, type StoryGraph } from "./in-process";
import { startMemorySampler, profilerClockMicros, type MemoryPeak } from "./memory";
import { createThread, streamOverHttp, type HttpRunTiming } from "./over-http";
import { startCpuMonitor, type CpuShare, type QuietGate } from "./quiet";
import { startProcMemorySampler } from "./runline-target";
import { assertTokens, type RunTiming } from "./timing";
import type { StoryPace } from "./workload";

export interface Targets {
  graph: StoryGraph;
  baseUrl: string;
  /** OS pid of the Runline process when it runs in a process of its own (its memory and CPU are sampled then). */
  runlinePid?: number;
  /** Re-takes samples during which other sessions used the machine (see lib/quiet.ts). */
  gate?: QuietGate;
}

/** Runs one sample through the gate (discarded and re-taken while others are busy), or plainly without one. */
function gated<T>(t: Targets, one: () => Promise<T>): Promise<T> {
  return t.gate ? t.gate.measure(one) : one();
}

/** A time window of one phase on the CPU profiler's clock, so a profile can be cut down to that phase. */
export interface PhaseWindow {
  label: string;
  startUs: number;
  endUs: number;
}

export const windows: PhaseWindow[] = [];

async function inWindow<T>(label: string | null, work: () => Promise<T>): Promise<T> {
  if (label === null) return work();
  const startUs = profilerClockMicros();
  try {
    return await work();
  } finally {
    windows.push({ label, startUs, endUs: profilerClockMicros() });
  }
}

// Lets the previous run's tail (BullMQ completion, finisher bookkeeping, checkpoint writes) settle so that
// single-run latency measures one run on a quiet process, not the overlap with the previous one.
const SETTLE_MS = 50;

// ------------------------------------------------------------------------------------ single-run latency

export interface LatencyResult {
  pace: StoryPace;
  iterations: number;
  inProcess: RunTiming[];
  runline: HttpRunTiming[];
}

/** One in-process run and one Runline run, in the given order, each on a fresh thread. */
async function latencyPair(t: Targets, pace: StoryPace, runlineFirst: boolean) {
  const threadId = await createThread(t.baseUrl); // outside the timed interval
  await sleep(SETTLE_MS);
  const runOne = async (side: "in" | "runline") => {
    const timing = side === "in" ? await streamInProcess(t.graph, pace) : await streamOverHttp(t.baseUrl, threadId, pace);
    await sleep(SETTLE_MS);
    return timing;
  };
  const first = await runOne(runlineFirst ? "runline" : "in");
  const second = await runOne(runlineFirst ? "in" : "runline");
  const [inProcess, runline] = runlineFirst ? [second, first] : [first, second];
  return { inProcess, runline: runline as HttpRunTiming };
}

/**
 * Single-run latency, interleaved: each iteration runs one of each, alternating which goes first, so drift
 * (GC, JIT, Postgres autovacuum) hits both sides alike. Warm-up iterations are discarded.
 */
export async function measureLatency(t: Targets, pace: StoryPace, iterations: number, warmup: number): Promise<LatencyResult> {
  for (let i = 0; i < warmup; i++) await latencyPair(t, pace, i % 2 === 1);
  return inWindow("latency", async () => {
    const result: LatencyResult = { pace, iterations, inProcess: [], runline: [] };
    for (let i = 0; i < iterations; i++) {
      const { inProcess, runline } = await gated(t, () => latencyPair(t, pace, i % 2 === 1));
      assertTokens(`latency in-process #${i}`, inProcess, pace.tokens);
      assertRunlineRun(`latency runline #${i}`, runline, pace.tokens);
      result.inProcess.push(inProcess);
      result.runline.push(runline);
    }
    return result;
  });
}

function assertRunlineRun(label: string, run: HttpRunTiming, tokens: number): void {
  assertTokens(label, run, tokens);
  if (run.endStatus !== "success") throw new Error(`${label}: run ended with status ${run.endStatus ?? "(no end frame)"}`);
}

// ------------------------------------------------------------------------------------- concurrent runs

export interface ConcurrentRound<T extends RunTiming> {
  wallMs: number;
  runs: T[];
  /** This (benchmark) process. */
  memory: MemoryPeak;
  /** Who used the CPU during the round (cores' worth). */
  cpu: CpuShare;
  /** The Runline process, when it has its own (VmRSS sampled every 50 ms; VmHWM = its peak since start). */
  runlineProcessMemory?: { peakRssMb: number; rssBeforeMb: number; hwmMb: number };
}

export interface ConcurrentResult {
  pace: StoryPace;
  concurrency: number;
  inProcess: ConcurrentRound<RunTiming>[];
  runline: ConcurrentRound<HttpRunTiming>[];
}

/** `concurrency` in-process runs started together; wall time = first start to last stream end. */
async function concurrentInProcess(
  t: Targets,
  pace: StoryPace,
  concurrency: number,
  label: string | null,
): Promise<ConcurrentRound<RunTiming>> {
  const round = await inWindow(label, async () => {
    const memory = startMemorySampler(50);
    const cpu = startCpuMonitor(t.runlinePid, t.gate?.ourPgBackends());
    const start = performance.now();
    const runs = await Promise.all(Array.from({ length: concurrency }, () => streamInProcess(t.graph, pace)));
    const wallMs = performance.now() - start;
    return { wallMs, runs, memory: memory.stop(), cpu: cpu.stop() };
  });
  const { runs } = round;
  runs.forEach((run, i) => assertTokens(`concurrent in-process run ${i}`, run, pace.tokens));
  return round;
}

/** `concurrency` `runs/stream` requests at once on threads created beforehand; wall time ends at the last `end` frame. */
async function concurrentRunline(
  t: Targets,
  pace: StoryPace,
  concurrency: number,
  label: string | null,
): Promise<ConcurrentRound<HttpRunTiming>> {
  const threadIds = await Promise.all(Array.from({ length: concurrency }, () => createThread(t.baseUrl)));
  await sleep(SETTLE_MS);
  const own = t.runlinePid !== undefined && t.runlinePid !== process.pid;
  const round = await inWindow(label, async () => {
    const memory = startMemorySampler(50);
    const runlineMemory = own ? startProcMemorySampler(t.runlinePid!, 50) : null;
    const cpu = startCpuMonitor(t.runlinePid, t.gate?.ourPgBackends());
    const start = performance.now();
    const runs = await Promise.all(threadIds.map((threadId) => streamOverHttp(t.baseUrl, threadId, pace)));
    const wallMs = performance.now() - start;
    return {
      wallMs,
      runs,
      memory: memory.stop(),
      cpu: cpu.stop(),
      ...(runlineMemory ? { runlineProcessMemory: runlineMemory.stop() } : {}),
    };
  });
  const { runs } = round;
  runs.forEach((run, i) => assertRunlineRun(`concurrent runline run ${i}`, run, pace.tokens));
  return round;
}

export type ConcurrentSides = { inProcess: boolean; runline: boolean };

/**
 * `rounds` rounds of `concurrency` simultaneous runs per side, alternating which side goes first. A short
 * warm-up batch first, so the first measured round does not pay for JIT-compiling the concurrent paths.
 */
export async function measureConcurrent(
  t: Targets,
  pace: StoryPace,
  concurrency: number,
  rounds: number,
  sides: ConcurrentSides,
): Promise<ConcurrentResult> {
  const warmPace = { tokens: 20, delayMs: pace.delayMs };
  if (sides.inProcess) await concurrentInProcess(t, warmPace, Math.min(10, concurrency), null);
  if (sides.runline) await concurrentRunline(t, warmPace, Math.min(10, concurrency), null);
  const result: ConcurrentResult = { pace, concurrency, inProcess: [], runline: [] };
  for (let r = 0; r < rounds; r++) {
    const order: Array<"in" | "runline"> = r % 2 === 0 ? ["in", "runline"] : ["runline", "in"];
    for (const side of order) {
      await sleep(250); // let the previous round's stragglers and GC finish before the clock starts
      if (side === "in" && sides.inProcess) {
        result.inProcess.push(await gated(t, () => concurrentInProcess(t, pace, concurrency, "concurrent-inprocess")));
      }
      if (side === "runline" && sides.runline) {
        result.runline.push(await gated(t, () => concurrentRunline(t, pace, concurrency, "concurrent-runline")));
      }
    }
  }
  return result;
}
