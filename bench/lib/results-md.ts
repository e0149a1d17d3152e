import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { ConcurrentSummary, GoalVerdicts, LatencySummary } from "./derive";
import type { Environment } from "./environment";
import type { IoProfile } from "./io-profile";
import type { Summary } from "./stats";

export interface FoundationReport {
  env: Environment;
  command: string;
  baseline: string;
  runlineSettings: string;
  latency: LatencySummary;
  concurrent: ConcurrentSummary;
  goals: GoalVerdicts;
  io: IoProfile;
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–");
const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : "–");
const signed = (v: number) => (v >= 0 ? `+${v.toFixed(1)}` : v.toFixed(1));
const verdict = (met: boolean) => (met ? "**met**" : "**not met**");

function row(cells: Array<string | number>): string {
  return `| ${cells.join(" | ")} |`;
}

function pct(s: Summary | undefined, key: "p50" | "p95"): string {
  return s ? ms(s[key]) : "–";
}

/** The "Foundation" section of bench/RESULTS.md. */
export function renderFoundation(r: FoundationReport): string {
  const { latency: l, concurrent: c, env, goals } = r;
  const ci = c.inProcess!;
  const cr = c.runline!;
  const lines = [
    "## Foundation",
    "",
    `Measured ${env.date} on ${env.nproc} cores (${env.cpuModel}), ${env.totalMemGb} GB RAM, Node ${env.node}, ${env.platform};`,
    `Redis ${env.redis} and Postgres ${env.postgres} on 127.0.0.1. Code: git ${env.git}.`,
    "",
    `Command: \`${r.command}\` (raw numbers: \`bench/out/foundation.json\`).`,
    "",
    `- **Baseline**: ${r.baseline}`,
    `- **Runline**: ${r.runlineSettings}`,
    `- **Single run**: ${l.tokens} tokens at ${l.delayMs} ms, ${l.iterations} runs per side, interleaved, after warm-up. TTFT is`,
    "  measured from just before `graph.stream(...)` / the `POST .../runs/stream` to the first `messages` item/frame;",
    "  thread creation is not included. Gaps are between consecutive tokens as the consumer received them.",
    `- **Concurrent**: ${c.concurrency} simultaneous runs of ${c.tokens} tokens at ${c.delayMs} ms, ${ci.rounds} rounds per side`,
    "  (alternating which side goes first); wall time is the median round, first request to last `end` frame.",
    `  Every run was checked to deliver exactly ${c.tokens} tokens (${ci.tokensVerified} + ${cr.tokensVerified} counted).`,
    "- **Memory**: API, worker, SSE client and the baseline graph share one process here, so RSS/heap are whole-process",
    "  peaks, sampled every 50 ms during each scenario.",
    "",
    row(["Metric", "In-process", "Runline (HTTP+SSE)", "Runline − in-process", "Ratio"]),
    row(["---", "---:", "---:", "---:", "---:"]),
    row([`Single run TTFT p50 (ms)`, pct(l.inProcess.ttft, "p50"), pct(l.runline.ttft, "p50"), signed(l.ttftOverheadP50Ms), x(l.ttftRatioP50)]),
    row([`Single run TTFT p95 (ms)`, pct(l.inProcess.ttft, "p95"), pct(l.runline.ttft, "p95"), signed(l.runline.ttft.p95 - l.inProcess.ttft.p95), x(l.runline.ttft.p95 / l.inProcess.ttft.p95)]),
    row([`Single run inter-token gap p50 (ms)`, pct(l.inProcess.gap, "p50"), pct(l.runline.gap, "p50"), signed(l.runline.gap.p50 - l.inProcess.gap.p50), ""]),
    row([`Single run inter-token gap p95 (ms)`, pct(l.inProcess.gap, "p95"), pct(l.runline.gap, "p95"), signed(l.runline.gap.p95 - l.inProcess.gap.p95), ""]),
    row([`${c.concurrency} runs: wall time (ms, median)`, ms(ci.wallMs), ms(cr.wallMs), signed(cr.wallMs - ci.wallMs), x(c.wallRatio)]),
    row([`${c.concurrency} runs: wall time per round (ms)`, ci.wallMsPerRound.map(ms).join(", "), cr.wallMsPerRound.map(ms).join(", "), "", ""]),
    row([`${c.concurrency} runs: aggregate tokens/s`, ci.tokensPerSecond.toFixed(0), cr.tokensPerSecond.toFixed(0), "", x(cr.tokensPerSecond / ci.tokensPerSecond)]),
    row([`${c.concurrency} runs: TTFT p50 (ms)`, pct(ci.ttft, "p50"), pct(cr.ttft, "p50"), signed(cr.ttft.p50 - ci.ttft.p50), x(cr.ttft.p50 / ci.ttft.p50)]),
    row([`${c.concurrency} runs: TTFT p95 (ms)`, pct(ci.ttft, "p95"), pct(cr.ttft, "p95"), signed(cr.ttft.p95 - ci.ttft.p95), x(cr.ttft.p95 / ci.ttft.p95)]),
    row([`${c.concurrency} runs: inter-token gap p50 / p95 (ms)`, `${pct(ci.gap, "p50")} / ${pct(ci.gap, "p95")}`, `${pct(cr.gap, "p50")} / ${pct(cr.gap, "p95")}`, "", ""]),
    row([`${c.concurrency} runs: peak process RSS (MB)`, ci.peakRssMb.toFixed(0), cr.peakRssMb.toFixed(0), signed(cr.peakRssMb - ci.peakRssMb), ""]),
    ...(ci.cpu && cr.cpu
      ? [
          row([
            `${c.concurrency} runs: CPU, cores (this process / Postgres + Redis / other sessions on the machine)`,
            `${cores(ci.cpu, "benchCores")} / ${cores(ci.cpu, "servicesCores")} / ${cores(ci.cpu, "othersCores")}`,
            `${cores(cr.cpu, "benchCores")} / ${cores(cr.cpu, "servicesCores")} / ${cores(cr.cpu, "othersCores")}`,
            "",
            "",
          ]),
        ]
      : []),
    row([`${c.concurrency} runs: peak heap used (MB)`, ci.peakHeapUsedMb.toFixed(0), cr.peakHeapUsedMb.toFixed(0), signed(cr.peakHeapUsedMb - ci.peakHeapUsedMb), ""]),
    "",
    `One token's \`messages\` frame carries ${l.runline.tokenFrameBytes} bytes of JSON on the wire (chunk + metadata).`,
    "",
    ...renderPhases(l, c),
    "",
    ...renderIo(r.io),
    "",
    "Goals:",
    "",
  ];
  if (goals.ttftOverhead) {
    const g = goals.ttftOverhead;
    lines.push(
      `- TTFT overhead over in-process p50 ≤ ${g.goalMs} ms: ${signed(g.valueMs)} ms, ${verdict(g.met)}` +
        ` (stretch ≤ ${g.stretchMs} ms: ${g.stretchMet ? "met" : "not met"}).`,
    );
  }
  if (goals.concurrentWall) {
    const g = goals.concurrentWall;
    lines.push(`- ${c.concurrency}-run wall time within ${g.goal}× of in-process: ${x(g.ratio)}, ${verdict(g.met)}.`);
  }
  return lines.join("\n") + "\n";
}

/** Where Runline's TTFT goes, from journal ids (Redis-stamped ms) and client clocks; medians per phase. */
function renderPhases(l: LatencySummary, c: ConcurrentSummary): string[] {
  const single = l.runline.phasesP50;
  const loaded = c.runline?.phasesP50;
  const cell = (v: number | undefined) => (v === undefined ? "–" : ms(v));
  const phase = (label: string, key: keyof typeof single) => row([label, cell(single[key]), cell(loaded?.[key])]);
  return [
    "Runline TTFT by phase (medians; journal ids are Redis-stamped in whole ms, so ±1 ms each):",
    "",
    row(["Phase", "Single run (ms)", `${c.concurrency} concurrent (ms)`]),
    row(["---", "---:", "---:"]),
    phase("POST sent → response headers (run created, enqueued, subscribed)", "headersMs"),
    phase("POST sent → worker appended `metadata` (job picked up, run claimed)", "toWorkerStartMs"),
    phase("worker `metadata` → first token appended (graph start, input checkpoint, 10 ms model delay)", "workerToFirstAppendMs"),
    phase("first token appended → client parsed the frame (pub/sub, hub, SSE, HTTP, parse)", "appendToClientMs"),
    row(["in-process TTFT, for comparison (graph start, input checkpoint, 10 ms model delay)", ms(l.inProcess.ttft.p50), c.inProcess ? ms(c.inProcess.ttft.p50) : "–"]),
  ];
}

/** Round trips per run, and the ones on the path to the first token (from one traced run per side). */
function renderIo(io: IoProfile): string[] {
  const rl = io.runline;
  const list = (items: string[]) => (items.length ? items.map((s) => s.replace(/^pg /, "").replace(/^redis /, "redis: ")).join(" → ") : "(none)");
  const appends = rl.counts["redis evalsha (journal append)"] ?? 0;
  return [
    `I/O per run (${io.pace.tokens} tokens; one traced run per side, \`bench/out/foundation.json\` has the timeline):`,
    "",
    row(["", "In-process", "Runline"]),
    row(["---", "---:", "---:"]),
    row(["Postgres queries", io.inProcess.pgQueries, rl.pgQueries]),
    row(["Redis commands (all clients in the process)", io.inProcess.redisCommands, `${rl.redisCommands} (${appends} journal appends)`]),
    "",
    `- Issued between the request and its response headers (${rl.beforeHeaders.length}; the API's are sequential, the last few are`,
    `  already the worker picking the job up): ${list(rl.beforeHeaders)}.`,
    `- Issued between the headers and the first token at the client (${rl.headersToFirstToken.length}): ${list(rl.headersToFirstToken)}.`,
  ];
}

/**
 * Replaces the `## <title>` section of a Markdown file (up to the next `## ` heading) or appends it, so other
 * sections written by hand or by other scripts survive a re-run.
 */
export function writeSection(file: string, title: string, section: string, header = "# Benchmark results\n"): void {
  const text = existsSync(file) ? readFileSync(file, "utf8") : header;
  // The heading is what finds the section next time: a section written without it would be orphaned.
  if (!section.startsWith(`## ${title}\n`)) section = `## ${title}\n\n${section}`;
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.trim() === `## ${title}`);
  let next: string;
  if (start < 0) {
    next = `${text.replace(/\n*$/, "\n")}\n${section}`;
  } else {
    let end = lines.findIndex((line, i) => i > start && /^## /.test(line));
    if (end < 0) end = lines.length;
    const before = lines.slice(0, start).join("\n");
    const after = lines.slice(end).join("\n");
    next = `${before}${before ? "\n" : ""}${section}${after ? `\n${after}` : ""}`;
  }
  writeFileSync(file, next.replace(/\n*$/, "\n"));
}

// ------------------------------------------------------------------ Runline in its own process (--runline-process)

/** What run-bench.ts writes to bench/out/foundation*.json (rounded); only the parts the renderers read. */
export interface FoundationJson {
  env: Environment;
  command: string;
  mode?: "in-process" | "own-process";
  baselineText?: string;
  runlineSettings?: string;
  latency: LatencySummary | null;
  concurrent: ConcurrentSummary | null;
  goals: GoalVerdicts;
  io: IoProfile | null;
  runlineProcess?: { pid: number; hwmMb: number; rssAtEndMb: number } | null;
  /** Samples (latency pairs, concurrent rounds) re-taken because other sessions used the machine meanwhile. */
  discards?: { samples: number; waitedMs: number };
}

function discardLine(r: FoundationJson): string {
  return r.discards
    ? `- Shared machine: ${r.discards.samples} sample(s) (latency pairs or concurrent rounds) were discarded and re-taken because other` +
        ` sessions' processes used ≥ 0.35 cores meanwhile (waited ${(r.discards.waitedMs / 1000).toFixed(0)} s for quiet; \`QuietGate\` in \`bench/lib/quiet.ts\`).`
    : "";
}

function readJson(file: string): FoundationJson | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as FoundationJson) : null;
}

const complete = (r: FoundationJson | null): r is FoundationJson & { latency: LatencySummary; concurrent: ConcurrentSummary } =>
  Boolean(r?.latency && r.concurrent?.inProcess && r.concurrent.runline);

/**
 * The whole "Foundation" section from the JSON files: the single-process run (`foundation.json`) and, below it,
 * the run with Runline in its own OS process (`foundation-process.json`) when there is one. Either run rewrites the
 * section, so the two stay side by side whichever ran last. Null when neither file holds a complete run.
 */
export function renderFoundationFromFiles(outDir: string, defaults: { baseline: string; runlineSettings: string }): string | null {
  const single = readJson(`${outDir}/foundation.json`);
  const proc = readJson(`${outDir}/foundation-process.json`);
  const parts: string[] = [];
  if (complete(single) && single.io) {
    const main = renderFoundation({
        env: single.env,
        command: single.command,
        baseline: single.baselineText ?? defaults.baseline,
        runlineSettings: single.runlineSettings ?? defaults.runlineSettings,
        latency: single.latency,
        concurrent: single.concurrent,
        goals: single.goals,
        io: single.io,
      });
    // The shared-machine note goes right after the bullet list of the single-process run.
    parts.push(discardLine(single) ? main.replace("\n\n| Metric |", `\n${discardLine(single)}\n\n| Metric |`) : main);
  } else if (complete(proc)) {
    parts.push("## Foundation\n\n(No complete single-process run in `bench/out/foundation.json`: run `npx tsx bench/run-bench.ts`.)\n");
  }
  if (complete(proc)) parts.push(renderProcessBlock(proc, complete(single) ? single : null));
  return parts.length ? parts.join("\n") : null;
}

function cores(c: Record<string, number> | undefined, key: string): string {
  const v = c?.[key];
  return v === undefined || !Number.isFinite(v) ? "–" : Math.max(0, v).toFixed(2);
}

function renderProcessBlock(p: FoundationJson & { latency: LatencySummary; concurrent: ConcurrentSummary }, single: (FoundationJson & { latency: LatencySummary; concurrent: ConcurrentSummary }) | null): string {
  const { latency: l, concurrent: c, env } = p;
  const ci = c.inProcess!;
  const cr = c.runline!;
  const s = single;
  const sl = s?.latency;
  const sc = s?.concurrent;
  const rp = cr.runlineProcess;
  const lines = [
    "### Foundation with Runline in its own OS process",
    "",
    `Measured ${env.date} on the same machine; code: git ${env.git}. Command: \`${p.command}\``,
    "(raw numbers: `bench/out/foundation-process.json`).",
    "",
    "- **Who runs where**: the **Runline process** is started as it is deployed,",
    "  `node --import tsx apps/runline/src/main.ts --role all --no-demo` with `REDIS_URL`, `DATABASE_URL`, `RUNLINE_DB_SCHEMA`,",
    "  `RUNLINE_REDIS_PREFIX` (the benchmark's private namespace), `RUNLINE_CONFIG=runline.json`, `HOST=127.0.0.1`, a free `PORT`,",
    "  `LOG_LEVEL=error`; the benchmark waits for `GET /ok`. It runs the API **and** the BullMQ worker (concurrency 64, pool 20).",
    "  The **benchmark process** runs the SSE clients (`openSse`, fetch) and the in-process baseline (same graph, same",
    "  Postgres saver and schema). So Runline has a process of its own, and on this 2-core machine roughly a core of its own;",
    "  the client's parsing no longer competes with it.",
    "- Same scenarios as above (single run: 200 tokens at 10 ms, interleaved with the baseline; 50 concurrent runs of 100",
    `  tokens, ${ci.rounds} rounds per side). The in-process baseline is re-measured in this run (column 2).`,
    "- Memory: Runline process RSS from `/proc/<pid>/status` (VmRSS sampled every 50 ms during each round; VmHWM = its peak",
    "  since start). CPU: from `/proc` over each round (median of rounds), in cores' worth.",
    ...(discardLine(p) ? [discardLine(p)] : []),
    "",
    row(["Metric", "In-process (this run)", "Runline, own process", "Runline − in-process", "Ratio", "Runline, single process (table above)"]),
    row(["---", "---:", "---:", "---:", "---:", "---:"]),
    row(["Single run TTFT p50 (ms)", ms(l.inProcess.ttft.p50), ms(l.runline.ttft.p50), signed(l.ttftOverheadP50Ms), x(l.ttftRatioP50), sl ? ms(sl.runline.ttft.p50) : "–"]),
    row(["Single run TTFT p95 (ms)", ms(l.inProcess.ttft.p95), ms(l.runline.ttft.p95), signed(l.runline.ttft.p95 - l.inProcess.ttft.p95), x(l.runline.ttft.p95 / l.inProcess.ttft.p95), sl ? ms(sl.runline.ttft.p95) : "–"]),
    row(["Single run inter-token gap p50 / p95 (ms)", `${ms(l.inProcess.gap.p50)} / ${ms(l.inProcess.gap.p95)}`, `${ms(l.runline.gap.p50)} / ${ms(l.runline.gap.p95)}`, "", "", sl ? `${ms(sl.runline.gap.p50)} / ${ms(sl.runline.gap.p95)}` : "–"]),
    row([`${c.concurrency} runs: wall time (ms, median)`, ms(ci.wallMs), ms(cr.wallMs), signed(cr.wallMs - ci.wallMs), x(c.wallRatio), sc?.runline ? ms(sc.runline.wallMs) : "–"]),
    row([`${c.concurrency} runs: wall time per round (ms)`, ci.wallMsPerRound.map(ms).join(", "), cr.wallMsPerRound.map(ms).join(", "), "", "", sc?.runline ? sc.runline.wallMsPerRound.map(ms).join(", ") : "–"]),
    row([`${c.concurrency} runs: aggregate tokens/s`, ci.tokensPerSecond.toFixed(0), cr.tokensPerSecond.toFixed(0), "", x(cr.tokensPerSecond / ci.tokensPerSecond), sc?.runline ? sc.runline.tokensPerSecond.toFixed(0) : "–"]),
    row([`${c.concurrency} runs: TTFT p50 (ms)`, ms(ci.ttft.p50), ms(cr.ttft.p50), signed(cr.ttft.p50 - ci.ttft.p50), x(cr.ttft.p50 / ci.ttft.p50), sc?.runline ? ms(sc.runline.ttft.p50) : "–"]),
    row([`${c.concurrency} runs: TTFT p95 (ms)`, ms(ci.ttft.p95), ms(cr.ttft.p95), signed(cr.ttft.p95 - ci.ttft.p95), x(cr.ttft.p95 / ci.ttft.p95), sc?.runline ? ms(sc.runline.ttft.p95) : "–"]),
    row([`${c.concurrency} runs: inter-token gap p50 / p95 (ms)`, `${ms(ci.gap.p50)} / ${ms(ci.gap.p95)}`, `${ms(cr.gap.p50)} / ${ms(cr.gap.p95)}`, "", "", sc?.runline ? `${ms(sc.runline.gap.p50)} / ${ms(sc.runline.gap.p95)}` : "–"]),
    row([
      `${c.concurrency} runs: CPU, cores (benchmark process / Runline process / Postgres + Redis / other sessions)`,
      `${cores(ci.cpu, "benchCores")} / – / ${cores(ci.cpu, "servicesCores")} / ${cores(ci.cpu, "othersCores")}`,
      `${cores(cr.cpu, "benchCores")} / ${cores(cr.cpu, "runlineCores")} / ${cores(cr.cpu, "servicesCores")} / ${cores(cr.cpu, "othersCores")}`,
      "",
      "",
      sc?.runline?.cpu ? `${cores(sc.runline.cpu, "benchCores")} (one process) / ${cores(sc.runline.cpu, "servicesCores")} / ${cores(sc.runline.cpu, "othersCores")}` : "–",
    ]),
    row([
      `${c.concurrency} runs: peak RSS (MB)`,
      `${ci.peakRssMb.toFixed(0)} (benchmark process)`,
      rp ? `${rp.peakRssMb.toFixed(0)} (Runline process; VmHWM ${rp.hwmMb.toFixed(0)}, idle before the rounds ${rp.rssBeforeMb.toFixed(0)})` : "–",
      "",
      "",
      sc?.runline ? `${sc.runline.peakRssMb.toFixed(0)} (whole single process)` : "–",
    ]),
    row([`${c.concurrency} runs: benchmark process peak RSS during the Runline rounds (MB; SSE clients only)`, "", cr.peakRssMb.toFixed(0), "", "", ""]),
    "",
    `Runline process at the end of the run: VmHWM (peak RSS since start) ${p.runlineProcess ? p.runlineProcess.hwmMb.toFixed(0) : "–"} MB, VmRSS ${p.runlineProcess ? p.runlineProcess.rssAtEndMb.toFixed(0) : "–"} MB.`,
    "",
    "TTFT by phase, Runline in its own process (medians; journal ids are Redis-stamped in whole ms, ±1 ms each):",
    "",
    row(["Phase", "Single run (ms)", `${c.concurrency} concurrent (ms)`]),
    row(["---", "---:", "---:"]),
    ...(
      [
        ["POST sent → response headers (run created, enqueued, subscribed)", "headersMs"],
        ["POST sent → worker appended `metadata` (job picked up, run claimed)", "toWorkerStartMs"],
        ["worker `metadata` → first token appended (graph start, input checkpoint, 10 ms model delay)", "workerToFirstAppendMs"],
        ["first token appended → client parsed the frame (pub/sub, hub, SSE, HTTP, parse)", "appendToClientMs"],
      ] as const
    ).map(([label, key]) => row([label, ms(l.runline.phasesP50[key]), cr.phasesP50 ? ms(cr.phasesP50[key]) : "–"])),
    "",
    "Goals with Runline in its own process:",
    "",
  ];
  if (p.goals.ttftOverhead) {
    const g = p.goals.ttftOverhead;
    lines.push(`- TTFT overhead over in-process p50 ≤ ${g.goalMs} ms: ${signed(g.valueMs)} ms, ${verdict(g.met)} (stretch ≤ ${g.stretchMs} ms: ${g.stretchMet ? "met" : "not met"}).`);
  }
  if (p.goals.concurrentWall) {
    const g = p.goals.concurrentWall;
    lines.push(`- ${c.concurrency}-run wall time within ${g.goal}× of in-process: ${x(g.ratio)}, ${verdict(g.met)}.`);
  }
  return lines.join("\n") + "\n";
}
