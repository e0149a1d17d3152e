import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { InProcessCancelSample } from "./cancel-inprocess";
import type { RunlineCancelSample } from "./cancel-runline";
import type { PhaseStat } from "./cancel-trace";
import type { Environment } from "./environment";
import type { CpuShare } from "./quiet";
import { median, percentile } from "./stats";
import type { StoryPace } from "./workload";

/** Goals for `POST …/cancel?wait=1&action=interrupt` on this machine. */
export const CANCEL_GOALS = { p50Ms: 25, p99Ms: 100 };

export interface LatencyStats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  min: number;
  mean: number;
}

export interface LoadInfo {
  runs: number;
  /** Tokens/s the load runs delivered to their consumers while the cell was measured. */
  loadTokensPerSecond: number;
  loadRunsCompleted: number;
}

export interface CellResult {
  side: "runline" | "in-process";
  condition: "idle" | "loaded";
  latency: LatencyStats;
  tokens: {
    cancels: number;
    received: number;
    /** Cancels whose `partial.token_count` equals the tokens the consumer received in total. */
    partialMatchesReceived: number;
    /** Runline: token frames parsed after the cancel response was parsed (sum over all cancels). */
    parsedAfterResponse?: number;
    /** Runline: token frames whose journal id is after the final `values` (i.e. after the partial was saved). */
    afterSave?: number;
    /** Runline: token frames with a journal id after `end`. */
    afterEnd?: number;
    /** In-process: items the consumer got after calling abort(). */
    afterAbort?: number;
    /** Tokens beyond the N read before cancelling (median): in flight while the cancel travelled. */
    beyondReadP50: number;
    beyondReadMax: number;
  };
  /** Runline: medians from journal ids; in-process: medians of the measured sub-steps. */
  breakdownP50: Record<string, number>;
  load: LoadInfo | null;
  /** Event-loop lag of the benchmark process during the cell, and who used the CPU (cores' worth). */
  loop: { p50Ms: number; p99Ms: number; maxMs: number; cpu: CpuShare };
}

export function latencyStats(xs: number[]): LatencyStats {
  return {
    n: xs.length,
    p50: percentile(xs, 50),
    p95: percentile(xs, 95),
    p99: percentile(xs, 99),
    max: Math.max(...xs),
    min: Math.min(...xs),
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function summarizeCell(
  side: CellResult["side"],
  condition: CellResult["condition"],
  samples: Array<RunlineCancelSample | InProcessCancelSample>,
  load: LoadInfo | null,
  loop: CellResult["loop"],
): CellResult {
  const latency = latencyStats(samples.map((s) => s.latencyMs));
  const beyond = samples.map((s) => s.tokensReceived - s.readTokens);
  const common = {
    cancels: samples.length,
    received: sum(samples.map((s) => s.tokensReceived)),
    partialMatchesReceived: samples.filter((s) => s.partialTokenCount === s.tokensReceived).length,
    beyondReadP50: median(beyond),
    beyondReadMax: Math.max(...beyond),
  };
  if (side === "runline") {
    const rl = samples as RunlineCancelSample[];
    return {
      side,
      condition,
      latency,
      tokens: {
        ...common,
        parsedAfterResponse: sum(rl.map((s) => s.tokensParsedAfterResponse)),
        afterSave: sum(rl.map((s) => s.tokensAfterSave)),
        afterEnd: sum(rl.map((s) => s.tokensAfterEnd)),
      },
      breakdownP50: Object.fromEntries(
        (["requestToValuesMs", "valuesToEndMs", "endToResponseMs", "lastTokenToValuesMs"] as const).map((k) => [k, median(rl.map((s) => s.journal[k]))]),
      ),
      load,
      loop,
    };
  }
  const ip = samples as InProcessCancelSample[];
  return {
    side,
    condition,
    latency,
    tokens: { ...common, afterAbort: sum(ip.map((s) => s.tokensAfterAbort)) },
    breakdownP50: Object.fromEntries(
      (["abortToThrowMs", "throwToSettledMs", "settledToSavedMs"] as const).map((k) => [k, median(ip.map((s) => s.phases[k]))]),
    ),
    load,
    loop,
  };
}

export interface CancelReport {
  env: Environment;
  command: string;
  mode: "in-process" | "own-process";
  options: Record<string, unknown>;
  pace: StoryPace;
  cells: CellResult[];
  trace: { idle: { phases: PhaseStat[]; extra: Record<string, number> }; loaded: { phases: PhaseStat[]; extra: Record<string, number> }; n: number; raw?: unknown } | null;
  runlineMemory: { rssMb: number; hwmMb: number } | null;
  quietBeforeStart?: { busy: number; quiet: boolean; waitedMs: number };
  /** Samples re-taken because other processes on the machine were busy during them, per cell. */
  /** Postgres checkpoints (timed or requested) that started during each cell. */
  pgCheckpointsDuring?: Record<string, number>;
  discards?: Record<string, { discarded: number; waitedMs: number; keptOthersP50?: number; keptOthersMax?: number }>;
  raw: unknown;
}

const ms = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(1) : "–");
const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : "–");
const row = (cells: Array<string | number>) => `| ${cells.join(" | ")} |`;

function read(file: string): CancelReport | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as CancelReport) : null;
}

function cell(r: CancelReport, side: CellResult["side"], condition: CellResult["condition"]): CellResult {
  const c = r.cells.find((c) => c.side === side && c.condition === condition);
  if (!c) throw new Error(`no ${side}/${condition} cell`);
  return c;
}

function discardText(r: CancelReport): string {
  if (!r.discards) return "not recorded";
  return Object.entries(r.discards)
    .map(
      ([k, v]) =>
        `${k} ${v.discarded} (waited ${(v.waitedMs / 1000).toFixed(0)} s` +
        (v.keptOthersP50 !== undefined && Number.isFinite(v.keptOthersP50) ? `; others' CPU during kept samples p50 ${v.keptOthersP50.toFixed(2)}, max ${v.keptOthersMax!.toFixed(2)} cores)` : ")"),
    )
    .join(", ");
}

function cpu(c: CellResult): string {
  const u = c.loop.cpu;
  if (!u) return "–";
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "–");
  return `${f(u.benchCores)}${Number.isFinite(u.runlineCores) ? ` / ${f(u.runlineCores)}` : ""}${u.servicesCores === undefined ? "" : ` / ${f(u.servicesCores)}`}`;
}

function latencyTable(r: CancelReport, runlineLabel: string): string[] {
  const ri = cell(r, "runline", "idle");
  const ii = cell(r, "in-process", "idle");
  const rl = cell(r, "runline", "loaded");
  const il = cell(r, "in-process", "loaded");
  const stat = (k: keyof LatencyStats, label: string) =>
    row([label, ms(ri.latency[k]), ms(ii.latency[k]), x(ri.latency[k] / ii.latency[k]), ms(rl.latency[k]), ms(il.latency[k]), x(rl.latency[k] / il.latency[k])]);
  return [
    row(["Cancel latency (ms)", `Idle: ${runlineLabel}`, "Idle: in-process", "Ratio", `Loaded: ${runlineLabel}`, "Loaded: in-process", "Ratio"]),
    row(["---", "---:", "---:", "---:", "---:", "---:", "---:"]),
    stat("p50", "p50"),
    stat("p95", "p95"),
    stat("p99", "p99"),
    stat("max", "max"),
    stat("mean", "mean"),
    row(["cancels measured", ri.latency.n, ii.latency.n, "", rl.latency.n, il.latency.n, ""]),
    row([
      "CPU during the cell (incl. any waits for quiet), cores: benchmark process" + (r.mode === "own-process" ? " / Runline process" : "") + " / Postgres + Redis",
      cpu(ri),
      cpu(ii),
      "",
      cpu(rl),
      cpu(il),
      "",
    ]),
    row([
      "load: tokens/s delivered by the other runs (event-loop lag p50 / p99 of the benchmark process, ms)",
      `– (${ms(ri.loop.p50Ms)} / ${ms(ri.loop.p99Ms)})`,
      `– (${ms(ii.loop.p50Ms)} / ${ms(ii.loop.p99Ms)})`,
      "",
      `${rl.load?.loadTokensPerSecond.toFixed(0)} (${ms(rl.loop.p50Ms)} / ${ms(rl.loop.p99Ms)})`,
      `${il.load?.loadTokensPerSecond.toFixed(0)} (${ms(il.loop.p50Ms)} / ${ms(il.loop.p99Ms)})`,
      "",
    ]),
  ];
}

function tokenTable(r: CancelReport): string[] {
  const cells = [cell(r, "runline", "idle"), cell(r, "runline", "loaded"), cell(r, "in-process", "idle"), cell(r, "in-process", "loaded")];
  const v = (c: CellResult, k: keyof CellResult["tokens"]) => (c.tokens[k] === undefined ? "n/a" : String(c.tokens[k]));
  return [
    row(["Tokens around the cancel", "Runline idle", "Runline loaded", "In-process idle", "In-process loaded"]),
    row(["---", "---:", "---:", "---:", "---:"]),
    row(["cancels (all `outcome: cancelled`, `partial.token_count > 0`)", ...cells.map((c) => c.tokens.cancels)]),
    row(["`partial.token_count` = tokens the subscriber received in total", ...cells.map((c) => `${c.tokens.partialMatchesReceived} / ${c.tokens.cancels}`)]),
    row(["tokens received in total (all cancels)", ...cells.map((c) => c.tokens.received)]),
    row(["tokens with a journal id after the partial was saved (after the final `values`)", ...cells.map((c) => v(c, "afterSave"))]),
    row(["tokens with a journal id after `end`", ...cells.map((c) => v(c, "afterEnd"))]),
    row(["token frames parsed by the client after it parsed the cancel response", ...cells.map((c) => v(c, "parsedAfterResponse"))]),
    row(["in-process: items the consumer got after `abort()`", ...cells.map((c) => v(c, "afterAbort"))]),
    row(["tokens beyond the N read before cancelling, p50 / max (in flight while the cancel travelled)", ...cells.map((c) => `${c.tokens.beyondReadP50} / ${c.tokens.beyondReadMax}`)]),
  ];
}

function phaseTable(trace: NonNullable<CancelReport["trace"]>): string[] {
  const lines = [
    row(["Phase (in order)", "Idle p50", "Idle p95", "Loaded p50", "Loaded p95"]),
    row(["---", "---:", "---:", "---:", "---:"]),
  ];
  trace.idle.phases.forEach((p, i) => {
    const l = trace.loaded.phases[i]!;
    lines.push(row([p.label, ms(p.p50), ms(p.p95), ms(l.p50), ms(l.p95)]));
  });
  const e = (k: string) => [ms(trace.idle.extra[k]), "", ms(trace.loaded.extra[k]), ""];
  lines.push(row(["**request → response (traced runs)**", ...e("totalMs")]));
  lines.push(row(["of which request → partial committed", ...e("requestToPartialSavedMs")]));
  lines.push(row(["of which partial committed → response", ...e("partialSavedToResponseMs")]));
  lines.push(row(["(parallel) PUBLISH round trip", ...e("publishRoundTripMs")]));
  lines.push(row(["(parallel) API's `finish(onlyIfPending)` transaction, a no-op for a running run", ...e("apiFinishOnlyIfPendingMs")]));
  lines.push(row(["(parallel) worker: `journal.end` called → `finisher.announce` returned", ...e("endAppendReplyMs")]));
  return lines;
}

function tokenVerdict(r: CancelReport): string[] {
  const rl = r.cells.filter((c) => c.side === "runline");
  const mismatches = rl.reduce((n, c) => n + c.tokens.cancels - c.tokens.partialMatchesReceived, 0);
  const afterSave = rl.reduce((n, c) => n + (c.tokens.afterSave ?? 0), 0);
  const parsedAfter = rl.reduce((n, c) => n + (c.tokens.parsedAfterResponse ?? 0), 0);
  const cancels = rl.reduce((n, c) => n + c.tokens.cancels, 0);
  const lines: string[] = [];
  if (mismatches === 0 && afterSave === 0) {
    lines.push(
      `In all ${cancels} Runline cancels \`partial.token_count\` equals the tokens the subscriber received, and no token frame has a`,
      "journal id after the final `values` event (which the worker appends right after the partial is committed): no token was",
      "produced or delivered after the partial was saved.",
    );
  } else {
    lines.push(`**Token check failed**: ${mismatches} of ${cancels} Runline cancels have \`partial.token_count\` ≠ tokens received, and ${afterSave} token frame(s) have a journal id after the save (details per cancel in the JSON).`);
  }
  lines.push(
    parsedAfter === 0
      ? "No token frame was even parsed by the client after it had parsed the cancel response."
      : `${parsedAfter} token frame(s) were parsed by the client after the cancel response, all with journal ids before the save: written to the socket before the response, read later by this client.`,
  );
  return lines;
}

/** Runs of cancel-bench.ts with other options, shown below the main table when their JSON exists. */
export const CANCEL_VARIANTS: Array<{ file: string; title: string; label: string; what: (r: CancelReport) => string }> = [
  {
    file: "cancel-process.json",
    title: "Runline in its own OS process",
    label: "Runline in its own process",
    what: (r) =>
      "`node --import tsx apps/runline/src/main.ts --role all --no-demo` runs API + worker as deployed; the SSE clients, the load " +
      "clients and the in-process baseline run in the benchmark process, so Runline has a process (and a core) of its own. " +
      `Peak RSS of the Runline process (VmHWM): ${r.runlineMemory ? r.runlineMemory.hwmMb.toFixed(0) : "–"} MB.`,
  },
  {
    file: "cancel-async-commit.json",
    title: "Diagnostic: Postgres `synchronous_commit = off`",
    label: "diagnostic, synchronous_commit=off",
    what: () =>
      "the same single-process run, but every Postgres connection (Runline's and the baseline's) commits without waiting for " +
      "the WAL flush (`options=-c synchronous_commit=off` in the connection string). Not a proposal (a committed partial " +
      "could be lost in a crash); it shows how much of the tail is this VM's fsync stalls.",
  },
];

/** The "Cancel" section, from bench/out/cancel.json (+ the variants' JSON files when present). */
export function renderCancel(outDir: string): string {
  const r = read(path.join(outDir, "cancel.json"));
  if (!r) throw new Error("no bench/out/cancel.json: run `npx tsx bench/cancel-bench.ts` first");
  const variants = CANCEL_VARIANTS.flatMap((v) => {
    const report = read(path.join(outDir, v.file));
    return report ? [{ ...v, report }] : [];
  });
  const { env, pace } = r;
  const o = r.options as { iterations: number; load: number; warmup: number; trace: number };
  const lines = [
    "## Cancel",
    "",
    `Measured ${env.date} on ${env.nproc} cores (${env.cpuModel}), ${env.totalMemGb} GB RAM, Node ${env.node}, ${env.platform};`,
    `Redis ${env.redis} and Postgres ${env.postgres} on 127.0.0.1. Code: git ${env.git}.`,
    "",
    `Command: \`${r.command}\` (raw numbers: \`bench/out/cancel.json\`).`,
    "",
    `- **Runline**: ${r.mode === "in-process" ? "`startRunline` with API and worker in the benchmark process (as in the Foundation run)" : "Runline in its own OS process"}. Each cancel: a new thread,`,
    `  \`POST /threads/{tid}/runs/stream\` (\`stream_mode: ["messages-tuple","values"]\`, ${pace.tokens} tokens at ${pace.delayMs} ms), read until N tokens`,
    "  arrived (N = 10…20, varied), then `POST …/cancel?wait=1&action=interrupt`, timed from just before the request to",
    "  the parsed JSON response (which Runline sends only after the partial is committed and the run ended).",
    "  The SSE stream is read in the background the whole time and then to its end.",
    "- **In-process**: `compileStoryGraph(createCheckpointer(pool, schema))` (same Postgres saver and schema),",
    "  `graph.stream` with `signal`, `callbacks: [new RunSettledHandler(runId)]`, `runId`, a `PartialCollector`; after N tokens",
    "  timed from `controller.abort()` → the stream throws → `settled.wait()` → `savePartialOutput(...)` resolved",
    "  (getState + updateState committed). That is \"abort + save with LangGraph directly\"; no run row, no journal, no HTTP.",
    `- **Idle**: nothing else running; Runline and in-process cancels interleaved. **Loaded**: ${o.load} other runs`,
    "  streaming 300–500 tokens at 10 ms each on other threads, restarted as they finish (Runline: through Runline, each read",
    `  by an SSE client in the benchmark process; in-process: ${o.load} \`graph.stream\` loops). Measured once all of them streamed.`,
    `- ${o.iterations} cancels per cell after ${o.warmup} warm-up cancels per side. Percentiles are linear-interpolated; with`,
    `  ${o.iterations} samples p99 is close to the second-largest value, so read it with the max next to it.`,
    `- This machine is shared with other sessions (their test suites use the same Postgres and Redis): a sample (idle: a Runline +`,
    `  in-process pair) during which anything but the benchmark, Runline, our own Postgres backends (told apart by`,
    `  \`application_name\`) and Redis used ≥ 0.35 cores is discarded and re-taken once they are quiet (\`QuietGate\`,`,
    `  \`bench/lib/quiet.ts\`). Re-taken here: ${discardText(r)}.` +
      (r.pgCheckpointsDuring ? ` Postgres checkpoints during the cells: ${Object.entries(r.pgCheckpointsDuring).map(([k, v]) => `${k} ${v}`).join(", ")}.` : ""),
    "",
    ...latencyTable(r, r.mode === "in-process" ? "Runline" : "Runline (own process)"),
    "",
    "Ratio = Runline / in-process at the same percentile.",
    "",
    ...tokenTable(r),
    "",
    ...tokenVerdict(r),
    "",
  ];
  const ri = cell(r, "runline", "idle");
  const rl = cell(r, "runline", "loaded");
  const ii = cell(r, "in-process", "idle");
  const il = cell(r, "in-process", "loaded");
  lines.push(
    "Where the time goes, without instrumentation (medians; journal ids are Redis-stamped in whole ms, so ±1 ms each):",
    "",
    row(["", "Idle", "Loaded"]),
    row(["---", "---:", "---:"]),
    row(["Runline: request sent → worker appended the final `values` (intent, publish, abort, settle, partial saved)", ms(ri.breakdownP50.requestToValuesMs), ms(rl.breakdownP50.requestToValuesMs)]),
    row(["Runline: final `values` → `end` appended (run row finished in Postgres)", ms(ri.breakdownP50.valuesToEndMs), ms(rl.breakdownP50.valuesToEndMs)]),
    row(["Runline: `end` appended → client parsed the response (API hears `end`, re-reads the run, answers)", ms(ri.breakdownP50.endToResponseMs), ms(rl.breakdownP50.endToResponseMs)]),
    row(["In-process: abort() → stream threw", ms(ii.breakdownP50.abortToThrowMs), ms(il.breakdownP50.abortToThrowMs)]),
    row(["In-process: threw → settled (RunSettledHandler)", ms(ii.breakdownP50.throwToSettledMs), ms(il.breakdownP50.throwToSettledMs)]),
    row(["In-process: settled → partial committed (getState + updateState)", ms(ii.breakdownP50.settledToSavedMs), ms(il.breakdownP50.settledToSavedMs)]),
    "",
  );
  if (r.trace) {
    lines.push(
      `Runline cancel by phase (a separate traced pass of ${r.trace.n} cancels idle and ${r.trace.n} loaded after the timed cells;`,
      "`bench/lib/cancel-trace.ts` wraps the methods of each step on their prototypes and stamps `performance.now()`, all in",
      "one process, so the phases are exact to the µs and add up to the total):",
      "",
      ...phaseTable(r.trace),
      "",
    );
  }
  for (const v of variants) {
    lines.push(
      `**${v.title}** (\`${v.report.command}\`, measured ${v.report.env.date}, git ${v.report.env.git}): ${v.what(v.report)}`,
      "",
      ...latencyTable(v.report, v.label),
      "",
      `Tokens: \`partial.token_count\` = tokens received in ${cell(v.report, "runline", "idle").tokens.partialMatchesReceived}/${cell(v.report, "runline", "idle").tokens.cancels} idle and ` +
        `${cell(v.report, "runline", "loaded").tokens.partialMatchesReceived}/${cell(v.report, "runline", "loaded").tokens.cancels} loaded Runline cancels; token frames with a journal id after the save: ` +
        `${cell(v.report, "runline", "idle").tokens.afterSave} idle, ${cell(v.report, "runline", "loaded").tokens.afterSave} loaded.`,
      "",
    );
  }
  const goal = (c: CellResult) =>
    `p50 ${ms(c.latency.p50)} ms (≤ ${CANCEL_GOALS.p50Ms}: ${c.latency.p50 <= CANCEL_GOALS.p50Ms ? "**met**" : "**not met**"}), ` +
    `p99 ${ms(c.latency.p99)} ms (≤ ${CANCEL_GOALS.p99Ms}: ${c.latency.p99 <= CANCEL_GOALS.p99Ms ? "**met**" : "**not met**"})`;
  lines.push("Goals (Runline p50 ≤ 25 ms, p99 ≤ 100 ms on this machine):", "");
  lines.push(`- Idle, ${r.mode === "in-process" ? "single process" : "own process"}: ${goal(ri)}.`);
  lines.push(`- Loaded (${o.load} other runs), ${r.mode === "in-process" ? "single process" : "own process"}: ${goal(rl)}.`);
  for (const v of variants) {
    lines.push(`- Idle, ${v.label}: ${goal(cell(v.report, "runline", "idle"))}.`);
    lines.push(`- Loaded, ${v.label}: ${goal(cell(v.report, "runline", "loaded"))}.`);
  }
  return lines.join("\n") + "\n";
}
