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
