// Scale: N concurrent streams (400, 800) × 100 tokens @10 ms through Runline as `npm start` runs it (own processes,
// RUNLINE_PROCESSES default, and RUNLINE_PROCESSES=1 for comparison), read by the official SDK Client in a separate
// client process, against the in-process baseline (same graph, graph.stream, same Postgres saver) in the same run.
//
//   npm run bench:scale                       N = 400,800; 3 rounds per side, alternating; processes default and 1
//   npx tsx bench/scale-streams.ts --streams 400 --rounds 3 --processes auto,1 --no-write
//
// Writes bench/out/scale-streams.json and the "Scale: concurrent streams" section of bench/RESULTS.md.
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { parseArgs } from "node:util";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { createCheckpointer } from "@runline/checkpoint";
import { createPool } from "@runline/db";
import { compileStoryGraph } from "@runline/graphs";
import { createTestNamespace } from "@runline/testing";
import { describeEnvironment } from "./lib/environment";
import { streamInProcess } from "./lib/in-process";
import { machineBusy, processCpuSeconds, treeCpuSeconds } from "./lib/quiet";
import { writeSection } from "./lib/results-md";
import { startRunlineProcess, treeRssMb } from "./lib/runline-target";
import { median, percentile, round } from "./lib/stats";

const REPO_ROOT = path.resolve(__dirname, "..");
const PACE = { tokens: 100, delayMs: 10 };

const treeCpu = treeCpuSeconds;
const servicesCpu = () => {
  let s = 0;
  for (const d of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (/\((postgres|redis-server)\)/.test(stat)) s += processCpuSeconds(Number(d)) || 0;
    } catch {
      /* gone */
    }
  }
  return s;
};

interface Round {
  side: string;
  wallMs: number;
  ttftP50: number;
  ttftP95: number;
  peakStreaming: number;
  allExact: boolean;
  peakRssMb?: number;
  cores: { runline?: number; services: number; client: number; machineBusy: number };
}

async function runlineRound(url: string, rootPid: number, n: number): Promise<Round> {
  const cpu0 = treeCpu(rootPid);
  const svc0 = servicesCpu();
  let peakRss = 0;
  const sampler = setInterval(() => {
    const sum = treeRssMb(rootPid);
    peakRss = Math.max(peakRss, sum);
  }, 100);
  const busy = machineBusy(1000);
  const t0 = performance.now();
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", path.join(__dirname, "lib/scale-client.ts"), url, String(n), String(PACE.tokens), String(PACE.delayMs)], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const s = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const r = JSON.parse(stdout) as { wallMs: number; peakStreaming: number; clientCores: number; runs: Array<{ ttftMs: number; tokens: number; status: string; threadId: string; runId: string; error?: unknown }> };
  const short = r.runs.filter((x) => x.tokens !== PACE.tokens || x.status !== "success");
  if (short.length > 0) console.error(`scale: N=${n}: ${short.length} runs not exactly ${PACE.tokens} tokens:`, JSON.stringify(short.slice(0, 10)));
  const ttft = r.runs.map((x) => x.ttftMs);
  return {
    side: "runline",
    wallMs: r.wallMs,
    ttftP50: percentile(ttft, 50),
    ttftP95: percentile(ttft, 95),
    peakStreaming: r.peakStreaming,
    allExact: short.length === 0,
    peakRssMb: peakRss,
    cores: { runline: (treeCpu(rootPid) - cpu0) / s, services: (servicesCpu() - svc0) / s, client: r.clientCores, machineBusy: (await busy) * 2 },
  };
}

async function inProcessRound(graph: ReturnType<typeof compileStoryGraph>, n: number): Promise<Round> {
  const svc0 = servicesCpu();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: n }, () => streamInProcess(graph, PACE)));
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const ttft = runs.map((r) => r.ttftMs);
  return {
    side: "in-process",
    wallMs,
    ttftP50: percentile(ttft, 50),
    ttftP95: percentile(ttft, 95),
    peakStreaming: n, // every graph.stream is started at once and streams from its first step
    allExact: runs.every((r) => r.tokens === PACE.tokens),
    cores: { services: ((servicesCpu() - svc0) * 1000) / wallMs, client: (c.user + c.system) / 1e3 / wallMs, machineBusy: Number.NaN },
  };
}

async function main() {
  const { values } = parseArgs({
    options: { env: { type: "string", multiple: true, default: [] }, streams: { type: "string", default: "400,800" }, rounds: { type: "string", default: "3" }, processes: { type: "string", default: "auto,1" }, "no-write": { type: "boolean", default: false } },
  });
  const streams = values.streams!.split(",").map(Number);
  // --env K=V (repeatable): extra environment for Runline, to measure a setting against the defaults.
  const extraEnv = Object.fromEntries((values.env as string[]).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  const rounds = Number(values.rounds);
  const ns = await createTestNamespace("scale");
  // Same size as Runline's default pool; no connect timeout: 800 graph.stream calls queue for it, as Runline's runs do.
  const pool = createPool(ns.databaseUrl, ns.schema, { max: 20, connectTimeoutMs: 0 });
  const graph = compileStoryGraph((await createCheckpointer(pool, ns.schema)) as unknown as BaseCheckpointSaver);
  const env = await describeEnvironment(ns.redis, ns.pool);
  const results: Array<{ processes: string; streams: number; inProcess: Round[]; runline: Round[] }> = [];
  try {
    for (const processes of values.processes!.split(",")) {
      mkdirSync(path.join(REPO_ROOT, "bench/out"), { recursive: true });
      const logPath = path.join(REPO_ROOT, `bench/out/scale-streams-runline-${processes}.log`);
      writeFileSync(logPath, "");
      const target = await startRunlineProcess(ns, { logPath, env: { LOG_LEVEL: "warn", ...extraEnv, ...(processes === "auto" ? {} : { RUNLINE_PROCESSES: processes }) } }, 90_000);
      try {
        // Warm-up (JIT, pools, connections) on both sides, not measured.
        await inProcessRound(graph, 10);
        await runlineRound(target.url, target.pid, 10);
        for (const n of streams) {
          const cell = { processes, streams: n, inProcess: [] as Round[], runline: [] as Round[] };
          for (let r = 0; r < rounds; r++) {
            for (const side of r % 2 === 0 ? ["in", "runline"] : ["runline", "in"]) {
              const round = side === "in" ? await inProcessRound(graph, n) : await runlineRound(target.url, target.pid, n);
              console.error(`scale: processes=${processes} N=${n} round ${r} ${round.side}: ${round.wallMs.toFixed(0)} ms, TTFT p50 ${round.ttftP50.toFixed(0)} ms, exact ${round.allExact}, RSS ${round.peakRssMb?.toFixed(0) ?? "-"} MB`);
              (side === "in" ? cell.inProcess : cell.runline).push(round);
            }
          }
          results.push(cell);
        }
      } finally {
        await target.close();
      }
    }
  } finally {
    await pool.end();
    await ns.cleanup();
  }
  mkdirSync(path.join(REPO_ROOT, "bench/out"), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, "bench/out/scale-streams.json"), JSON.stringify({ env, pace: PACE, results }, null, 2) + "\n");
  const med = (rs: Round[], f: (r: Round) => number) => round(median(rs.map(f)), 1);
  const lines = [
    "## Scale: concurrent streams",
    "",
    `Measured ${env.date}, ${env.nproc} cores, Node ${env.node}, git ${env.git}. Command: \`npm run bench:scale\` (raw: \`bench/out/scale-streams.json\`).`,
    `N streams × ${PACE.tokens} tokens @${PACE.delayMs} ms; Runline started as \`npm start\` does (main.ts, own processes), clients = SDK \`Client.runs.stream\` in a separate process;`,
    "in-process = the same graph with `graph.stream` and the same Postgres saver, in the bench process. Medians of rounds, alternating sides.",
    "",
    "| processes | N | in-process wall (ms) | Runline wall (ms) | ratio | TTFT p50 / p95 (ms) | peak streaming | all exactly 100 tokens | peak RSS Runline (MB) | cores Runline / PG+Redis / client | machine busy (cores) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: |",
    ...results.map((c) => {
      const wi = med(c.inProcess, (r) => r.wallMs);
      const wr = med(c.runline, (r) => r.wallMs);
      return `| ${c.processes} | ${c.streams} | ${wi} | ${wr} | ${(wr / wi).toFixed(2)}× | ${med(c.runline, (r) => r.ttftP50)} / ${med(c.runline, (r) => r.ttftP95)} | ${Math.max(...c.runline.map((r) => r.peakStreaming))} | ${[...c.runline, ...c.inProcess].every((r) => r.allExact)} | ${Math.max(...c.runline.map((r) => r.peakRssMb ?? 0)).toFixed(0)} | ${med(c.runline, (r) => r.cores.runline ?? NaN)} / ${med(c.runline, (r) => r.cores.services)} / ${med(c.runline, (r) => r.cores.client)} | ${med(c.runline, (r) => r.cores.machineBusy)} |`;
    }),
    "",
  ];
  console.log(lines.join("\n"));
  if (!values["no-write"]) writeSection(path.join(REPO_ROOT, "bench/RESULTS.md"), "Scale: concurrent streams", lines.join("\n"));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error("scale: FAILED:", err);
    process.exit(1);
  },
);
