// Where a single run's time to first token goes, round trip by round trip.
//
//   npx tsx bench/ttft-path.ts [--runs N] [--warmup N] [--no-callers]
//
// Runline's API and worker run in this process (as in the Foundation benchmark), so every Postgres query and Redis
// command is traced. Each run streams on its own fresh thread, alone on the machine. For every round trip issued
// between the POST and the first token frame, prints the median start (ms after the request was sent) and median
// duration over the runs, in order. A round trip is matched across runs by its name and occurrence (the 2nd
// `pg SELECT runs` of each run); ones that not every run made are marked. Writes bench/out/ttft-path.json.
// --no-callers skips the stack capture that names each call's function (it costs ~0.3 ms a call), for timings
// closer to untraced ones.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { subscribe } from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestNamespace } from "@runline/testing";
import { createThread, streamOverHttp } from "./lib/over-http";
import { startInProcessRunline } from "./lib/runline-target";
import { percentile } from "./lib/stats";
import { IoTracer, type TraceEvent } from "./lib/trace";

const OUT = path.resolve(__dirname, "out", "ttft-path.json");
const { values } = parseArgs({
  options: { runs: { type: "string", default: "15" }, warmup: { type: "string", default: "3" }, "no-callers": { type: "boolean", default: false } },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const pace = { tokens: 5, delayMs: 10 };

interface Step {
  what: string;
  startMs: number[];
  durationMs: number[];
}

async function main(): Promise<void> {
  const ns = await createTestNamespace("ttftpath");
  const runline = await startInProcessRunline(ns);
  const tracer = new IoTracer({ callers: !values["no-callers"] });
  try {
    for (let i = 0; i < warmup; i++) await streamOverHttp(runline.url, await createThread(runline.url), pace);
    tracer.install();
    // When the server side of each request begins (Node's HTTP server, before Express), to split client from server.
    let requestStarts: number[] = [];
    subscribe("http.server.request.start", () => requestStarts.push(performance.now()));
    const steps = new Map<string, Step>();
    const phases: Array<Record<string, number>> = [];
    for (let i = 0; i < runs; i++) {
      const threadId = await createThread(runline.url);
      await sleep(50); // the thread's creation settled
      requestStarts = [];
      tracer.record(true);
      const run = await streamOverHttp(runline.url, threadId, pace);
      tracer.record(false);
      await sleep(100); // the run's finish, outside the window
      const events = tracer.reset().filter((e) => e.startMs >= run.marks.start && e.startMs < run.marks.firstToken);
      if (requestStarts[0] !== undefined) events.push({ kind: "http", name: "server: request received", startMs: requestStarts[0], durationMs: 0 });
      phases.push({ headers: run.marks.headers - run.marks.start, firstToken: run.marks.firstToken - run.marks.start });
      collect(steps, events.sort((a, b) => a.startMs - b.startMs), run.marks.start);
    }
    const median = (xs: number[]) => Math.round(percentile(xs, 50) * 10) / 10;
    const rows = [...steps.values()]
      .map((s) => ({ what: s.what, atMs: median(s.startMs), durationMs: median(s.durationMs), runs: s.startMs.length }))
      .sort((a, b) => a.atMs - b.atMs);
    const summary = {
      runs,
      headersMs: median(phases.map((p) => p.headers!)),
      firstTokenMs: median(phases.map((p) => p.firstToken!)),
      steps: rows,
    };
    for (const r of rows) {
      console.log(`${r.atMs.toFixed(1).padStart(6)} ms  +${r.durationMs.toFixed(1).padStart(4)}  ${r.what}${r.runs < runs ? `  (${r.runs}/${runs} runs)` : ""}`);
    }
    console.log(`response headers at ${summary.headersMs} ms, first token at ${summary.firstTokenMs} ms (medians of ${runs} runs; model delay ${pace.delayMs} ms)`);
    mkdirSync(path.dirname(OUT), { recursive: true });
    writeFileSync(OUT, JSON.stringify(summary, null, 2) + "\n");
  } finally {
    tracer.uninstall();
    await runline.close();
    await ns.cleanup();
  }
}

/** Adds one run's round trips, keyed by name and occurrence so the same step of different runs lines up. */
function collect(steps: Map<string, Step>, events: TraceEvent[], start: number): void {
  const seen = new Map<string, number>();
  for (const e of events) {
    const label = `${e.kind} ${e.name}${e.caller ? ` ← ${e.caller}` : ""}`;
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    const key = `${label}#${n}`;
    const step = steps.get(key) ?? { what: n > 1 ? `${label} (#${n})` : label, startMs: [], durationMs: [] };
    step.startMs.push(e.startMs - start);
    step.durationMs.push(e.durationMs);
    steps.set(key, step);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
