import type { ConcurrentResult, ConcurrentRound, LatencyResult } from "./scenarios";
import { median, round, summarize, type Summary } from "./stats";
import type { HttpRunTiming, TtftPhases } from "./over-http";
import type { RunTiming } from "./timing";

/** The goals this benchmark is judged against (see bench/RESULTS.md). */
export const GOALS = {
  ttftOverheadMs: 10,
  ttftOverheadStretchMs: 5,
  concurrentWallRatio: 1.25,
};

export interface LatencySummary {
  iterations: number;
  tokens: number;
  delayMs: number;
  inProcess: { ttft: Summary; gap: Summary };
  runline: { ttft: Summary; gap: Summary; tokenFrameBytes: number; phasesP50: Record<keyof TtftPhases, number> };
  ttftOverheadP50Ms: number;
  ttftRatioP50: number;
}

export function summarizeLatency(r: LatencyResult): LatencySummary {
  const side = (runs: RunTiming[]) => ({
    ttft: summarize(runs.map((x) => x.ttftMs)),
    gap: summarize(runs.flatMap((x) => x.gapsMs)),
  });
  const inProcess = side(r.inProcess);
  const runline = {
    ...side(r.runline),
    tokenFrameBytes: r.runline[0]?.tokenFrameBytes ?? Number.NaN,
    phasesP50: phasesP50(r.runline),
  };
  return {
    iterations: r.iterations,
    tokens: r.pace.tokens,
    delayMs: r.pace.delayMs,
    inProcess,
    runline,
    ttftOverheadP50Ms: runline.ttft.p50 - inProcess.ttft.p50,
    ttftRatioP50: runline.ttft.p50 / inProcess.ttft.p50,
  };
}

export interface ConcurrentSideSummary {
  rounds: number;
  /** Median wall time over rounds (and every round's, for spread). */
  wallMs: number;
  wallMsPerRound: number[];
  tokensPerSecond: number;
  ttft: Summary;
  gap: Summary;
  /** Highest peak over rounds; whole process (API + worker + client + baseline graph share it). */
  peakRssMb: number;
  peakHeapUsedMb: number;
  rssBeforeMb: number;
  tokensVerified: number;
  /** Runline only: median TTFT phases under load. */
  phasesP50?: Record<keyof TtftPhases, number>;
  /** Median over rounds of who used the CPU (cores' worth). */
  cpu?: Record<string, number>;
  /** Runline in its own process: its peak VmRSS over the rounds and its VmHWM (peak since start) after them. */
  runlineProcess?: { peakRssMb: number; hwmMb: number; rssBeforeMb: number };
}

function summarizeSide(rounds: ConcurrentRound<RunTiming>[], concurrency: number, tokens: number): ConcurrentSideSummary | null {
  if (!rounds.length) return null;
  const walls = rounds.map((x) => x.wallMs);
  const wallMs = median(walls);
  const all = rounds.flatMap((x) => x.runs);
  return {
    rounds: rounds.length,
    wallMs,
    wallMsPerRound: walls.map((w) => round(w, 1)),
    tokensPerSecond: (concurrency * tokens) / (wallMs / 1000),
    ttft: summarize(all.map((x) => x.ttftMs)),
    gap: summarize(all.flatMap((x) => x.gapsMs)),
    peakRssMb: Math.max(...rounds.map((x) => x.memory.peakRssMb)),
    peakHeapUsedMb: Math.max(...rounds.map((x) => x.memory.peakHeapUsedMb)),
    rssBeforeMb: Math.min(...rounds.map((x) => x.memory.rssBeforeMb)),
    tokensVerified: all.reduce((sum, x) => sum + x.tokens, 0),
    ...(rounds[0]?.cpu
      ? { cpu: Object.fromEntries(Object.keys(rounds[0].cpu).map((k) => [k, median(rounds.map((x) => (x.cpu as unknown as Record<string, number>)[k]!))])) }
      : {}),
    ...(rounds[0]?.runlineProcessMemory
      ? {
          runlineProcess: {
            peakRssMb: Math.max(...rounds.map((x) => x.runlineProcessMemory!.peakRssMb)),
            hwmMb: Math.max(...rounds.map((x) => x.runlineProcessMemory!.hwmMb)),
            rssBeforeMb: Math.min(...rounds.map((x) => x.runlineProcessMemory!.rssBeforeMb)),
          },
        }
      : {}),
    ...(all.length && "phases" in all[0]! ? { phasesP50: phasesP50(all as HttpRunTiming[]) } : {}),
  };
}

function phasesP50(runs: HttpRunTiming[]): Record<keyof TtftPhases, number> {
  const keys: Array<keyof TtftPhases> = ["headersMs", "toWorkerStartMs", "workerToFirstAppendMs", "appendToClientMs"];
  return Object.fromEntries(keys.map((k) => [k, median(runs.map((x) => x.phases[k]))])) as Record<keyof TtftPhases, number>;
}

export interface ConcurrentSummary {
  concurrency: number;
  tokens: number;
  delayMs: number;
  inProcess: ConcurrentSideSummary | null;
  runline: ConcurrentSideSummary | null;
  wallRatio: number;
}

export function summarizeConcurrent(r: ConcurrentResult): ConcurrentSummary {
  const inProcess = summarizeSide(r.inProcess, r.concurrency, r.pace.tokens);
  const runline = summarizeSide(r.runline, r.concurrency, r.pace.tokens);
  return {
    concurrency: r.concurrency,
    tokens: r.pace.tokens,
    delayMs: r.pace.delayMs,
    inProcess,
    runline,
    wallRatio: inProcess && runline ? runline.wallMs / inProcess.wallMs : Number.NaN,
  };
}

export interface GoalVerdicts {
  ttftOverhead: { valueMs: number; goalMs: number; met: boolean; stretchMs: number; stretchMet: boolean } | null;
  concurrentWall: { ratio: number; goal: number; met: boolean } | null;
}

export function judge(latency: LatencySummary | null, concurrent: ConcurrentSummary | null): GoalVerdicts {
  return {
    ttftOverhead: latency
      ? {
          valueMs: latency.ttftOverheadP50Ms,
          goalMs: GOALS.ttftOverheadMs,
          met: latency.ttftOverheadP50Ms <= GOALS.ttftOverheadMs,
          stretchMs: GOALS.ttftOverheadStretchMs,
          stretchMet: latency.ttftOverheadP50Ms <= GOALS.ttftOverheadStretchMs,
        }
      : null,
    concurrentWall:
      concurrent && Number.isFinite(concurrent.wallRatio)
        ? { ratio: concurrent.wallRatio, goal: GOALS.concurrentWallRatio, met: concurrent.wallRatio <= GOALS.concurrentWallRatio }
        : null,
  };
}

/** Deep-rounds every number so the JSON file is readable. */
export function rounded<T>(value: T): T {
  if (typeof value === "number") return (Number.isFinite(value) ? round(value, 3) : value) as T;
  if (Array.isArray(value)) return value.map(rounded) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)])) as T;
  }
  return value;
}
