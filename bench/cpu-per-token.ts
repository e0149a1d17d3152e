// Server CPU per token (issue #12): how much CPU does Runline's process spend per streamed token, against
// LangGraph running the same graph in-process with the same Postgres saver?
//
//   npx tsx bench/cpu-per-token.ts [--concurrency 50] [--tokens 100] [--rounds 3] [--profile DIR] [--no-write]
//
// Runline runs as deployed, in its own OS process (API + worker); the SSE clients run here, so their parsing is
// not charged to Runline. Its CPU is read from /proc/<pid>/stat (user + system) around each round; the baseline's
// from process.cpuUsage() around the same workload in this process, with nothing else running here meanwhile.
// Postgres and Redis CPU is left out on both sides (reported apart). CPU time, unlike wall time, barely moves
// when other sessions load the machine, which is why this is the number to compare commits with.
//
// --split runs the API and the worker in a process each and reports the worker's share. --env K=V passes a
// setting to Runline. --profile DIR starts Runline with --cpu-prof (written when it exits), for `bench/summarize-cpuprofile.ts DIR`.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { createCheckpointer } from "@runline/checkpoint";
import { createPool } from "@runline/db";
import { compileStoryGraph } from "@runline/graphs";
import { createTestNamespace } from "@runline/testing";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { describeEnvironment } from "./lib/environment";
import { streamInProcess } from "./lib/in-process";
import { createThread, streamOverHttp } from "./lib/over-http";
import { profilerClockMicros } from "./lib/memory";
import { startCpuMonitor, treeCpuSeconds } from "./lib/quiet";
import type { PhaseWindow } from "./lib/scenarios";
import { writeSection } from "./lib/results-md";
import { startRunlineProcess } from "./lib/runline-target";
import { median } from "./lib/stats";
import { assertTokens } from "./lib/timing";

const REPO_ROOT = path.resolve(__dirname, "..");

const { values: args } = parseArgs({
  options: {
    concurrency: { type: "string", default: "50" },
    tokens: { type: "string", default: "100" },
    "delay-ms": { type: "string", default: "10" },
    rounds: { type: "string", default: "5" },
    profile: { type: "string" },
    env: { type: "string", multiple: true, default: [] },
    "no-write": { type: "boolean", default: false },
    split: { type: "boolean", default: false },
  },
});
const concurrency = Number(args.concurrency);
const pace = { tokens: Number(args.tokens), delayMs: Number(args["delay-ms"]) };
const rounds = Number(args.rounds);

interface Round {
  cpuS: number;
  /** With --split: the worker process's share of cpuS. */
  workerCpuS?: number;
  wallS: number;
  servicesCores: number;
  /** Runline: the CPU of creating the round's threads, measured apart (not in cpuS). */
  threadsCpuS?: number;
}

async function round(work: () => Promise<void>, cpuSeconds: () => number): Promise<Round> {
  const monitor = startCpuMonitor();
  const cpu0 = cpuSeconds();
  const t0 = process.hrtime.bigint();
  await work();
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuS = cpuSeconds() - cpu0;
  return { cpuS, wallS, servicesCores: monitor.stop().servicesCores };
}

const selfCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

async function main(): Promise<void> {
  const ns = await createTestNamespace("cpu");
  const profileDir = args.profile ? path.resolve(args.profile) : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  // --env K=V (repeatable) sets Runline's environment, e.g. to compare a setting's cost.
  const env = Object.fromEntries(args.env.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  const nodeArgs = (role: string) => (profileDir ? ["--cpu-prof", "--cpu-prof-dir", path.join(profileDir, role)] : []);
  // --split: the API and the worker in a process each, so each side's CPU is seen apart.
  const runline = await startRunlineProcess(ns, { env: { ...env, ...(args.split ? { RUNLINE_ROLE: "api" } : {}) }, nodeArgs: nodeArgs(args.split ? "api" : "all") });
  const worker = args.split ? await startRunlineProcess(ns, { env: { ...env, RUNLINE_ROLE: "worker" }, nodeArgs: nodeArgs("worker") }) : null;
  const pool = createPool(ns.databaseUrl, ns.schema);
  try {
    const graph = compileStoryGraph((await createCheckpointer(pool, ns.schema)) as unknown as BaseCheckpointSaver);
    const machine = await describeEnvironment(ns.redis, ns.pool);
    const tokens = concurrency * pace.tokens;
    const inProcess = async () => {
      const runs = await Promise.all(Array.from({ length: concurrency }, () => streamInProcess(graph, pace)));
      for (const r of runs) assertTokens("run", r, pace.tokens);
    };
    // The baseline streams on a fresh thread id with no row to create; Runline's threads are created before the
    // round's CPU is read (a thread outlives many runs), and what they cost is reported apart.
    let threads: string[] = [];
    const createThreads = async () => {
      threads = await Promise.all(Array.from({ length: concurrency }, () => createThread(runline.url)));
    };
    const overHttp = async () => {
      const runs = await Promise.all(threads.map((id) => streamOverHttp(runline.url, id, pace)));
      for (const r of runs) assertTokens("run", r, pace.tokens);
    };
    const runlineCpu = () => treeCpuSeconds(runline.pid) + (worker ? treeCpuSeconds(worker.pid) : 0);
    const workerCpu = () => (worker ? treeCpuSeconds(worker.pid) : Number.NaN);
    // Warm-up: JIT both paths before anything is counted.
    await inProcess();
    await createThreads();
    await overHttp();
    const base: Round[] = [];
    const rl: Round[] = [];
    // The Runline rounds' windows on the profiler's clock, so `summarize-cpuprofile --window runline-round` leaves
    // out start-up and the warm-up; the in-process rounds' too, for a profile of this process (`node --cpu-prof
    // --import tsx bench/cpu-per-token.ts --profile DIR` … `--window in-process-round`).
    const windows: PhaseWindow[] = [];
    for (let r = 0; r < rounds; r++) {
      const baseStartUs = profilerClockMicros();
      base.push(await round(inProcess, selfCpuSeconds));
      windows.push({ label: "in-process-round", startUs: baseStartUs, endUs: profilerClockMicros() });
      const threads0 = runlineCpu();
      await createThreads();
      const threadsCpuS = runlineCpu() - threads0;
      const worker0 = workerCpu();
      const startUs = profilerClockMicros();
      rl.push({ ...(await round(overHttp, runlineCpu)), threadsCpuS, ...(worker ? { workerCpuS: workerCpu() - worker0 } : {}) });
      windows.push({ label: "runline-round", startUs, endUs: profilerClockMicros() });
    }
    if (profileDir) writeFileSync(path.join(profileDir, "windows.json"), JSON.stringify(windows, null, 2) + "\n");
    const perToken = (rs: Round[]) => median(rs.map((r) => (r.cpuS / tokens) * 1e6));
    // Other sessions' load inflates CPU time a little (shared caches, preemption): the least round is the cost.
    const leastPerToken = (rs: Round[]) => Math.min(...rs.map((r) => (r.cpuS / tokens) * 1e6));
    const result = {
      env: machine,
      runlineEnv: env,
      command: `npx tsx bench/cpu-per-token.ts ${process.argv.slice(2).join(" ")}`.trim(),
      workload: { concurrency, ...pace, rounds },
      inProcessUsPerToken: perToken(base),
      runlineUsPerToken: perToken(rl),
      inProcessUsPerTokenLeast: leastPerToken(base),
      runlineUsPerTokenLeast: leastPerToken(rl),
      ...(worker ? { workerUsPerToken: median(rl.map((r) => (r.workerCpuS! / tokens) * 1e6)) } : {}),
      threadCreationUsPerToken: median(rl.map((r) => ((r.threadsCpuS ?? 0) / tokens) * 1e6)),
      inProcessRounds: base,
      runlineRounds: rl,
    };
    const overhead = result.runlineUsPerToken - result.inProcessUsPerToken;
    console.log(JSON.stringify(result, null, 2));
    mkdirSync(path.join(REPO_ROOT, "bench/out"), { recursive: true });
    writeFileSync(path.join(REPO_ROOT, "bench/out/cpu-per-token.json"), JSON.stringify(result, null, 2));
    if (!args["no-write"] && !profileDir && !worker) {
      const fmt = (n: number) => n.toFixed(0);
      writeSection(
        path.join(REPO_ROOT, "bench/RESULTS.md"),
        "CPU per token",
        [
          `Measured ${machine.date} on ${machine.nproc} cores, Node ${machine.node}; code: git ${machine.git}. Command: \`${result.command}\` (raw: \`bench/out/cpu-per-token.json\`).`,
          "",
          `${concurrency} concurrent runs × ${pace.tokens} tokens at ${pace.delayMs} ms, ${rounds} rounds per side, median round. Runline in its own process`,
          "(API + worker, `main.ts --role all`), SSE clients in the benchmark process; its CPU from `/proc/<pid>/stat`. In-process:",
          "the same story graph and Postgres saver with `graph.stream` in the benchmark process (`process.cpuUsage`). Postgres and",
          `Redis CPU are not included on either side. Each Runline run streams on a thread of its own, created (\`POST /threads\`) before the round's CPU is read: +${fmt(result.threadCreationUsPerToken)} µs per token if it were counted.`,
          "",
          "| | In-process LangGraph | Runline process | Runline overhead |",
          "| --- | ---: | ---: | ---: |",
          `| CPU per token (µs), median round | ${fmt(result.inProcessUsPerToken)} | ${fmt(result.runlineUsPerToken)} | +${fmt(overhead)} (${(result.runlineUsPerToken / result.inProcessUsPerToken).toFixed(2)}×) |`,
          `| CPU per token (µs), least round | ${fmt(result.inProcessUsPerTokenLeast)} | ${fmt(result.runlineUsPerTokenLeast)} | +${fmt(result.runlineUsPerTokenLeast - result.inProcessUsPerTokenLeast)} |`,
          `| wall per round (s, median) | ${median(base.map((r) => r.wallS)).toFixed(2)} | ${median(rl.map((r) => r.wallS)).toFixed(2)} | |`,
          `| Postgres + Redis, cores during the round (median) | ${median(base.map((r) => r.servicesCores)).toFixed(2)} | ${median(rl.map((r) => r.servicesCores)).toFixed(2)} | |`,
          "",
          `Goal (#12): ≤ 250 µs per token and ≤ 50 µs of Runline overhead: ${result.runlineUsPerToken <= 250 && overhead <= 50 ? "met" : "**not met**"}.`,
        ].join("\n"),
      );
    }
  } finally {
    await worker?.close();
    await runline.close();
    await pool.end();
    await ns.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
