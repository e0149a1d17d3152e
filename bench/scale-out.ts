// Runline "Scale-out" benchmark (issue #12, past one machine): throughput of N API × M worker processes against one
// Redis and one Postgres, each process pinned to a core with `taskset`, so the curve is per core and not "whatever
// the scheduler did". The workload saturates every layout: C concurrent story runs × T tokens at 10 ms, which asks
// for more CPU than two cores have, so tokens/s is the layout's capacity.
//
//   npx tsx bench/scale-out.ts     writes the "Scale-out" section of bench/RESULTS.md and bench/out/scale-out.json
//
// Options: --concurrency C (200)  --tokens T (100)  --rounds N (2 per layout)  --no-write
//
// The SSE clients run in this process, unpinned, and share the machine's cores with Runline, Redis and Postgres;
// their CPU is reported beside each layout. On a 2-core machine that is the honest limit of the curve: the
// second core is also where the clients, Redis and Postgres run.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { createCheckpointer } from "@runline/checkpoint";
import { createPool } from "@runline/db";
import { compileStoryGraph } from "@runline/graphs";
import { createTestNamespace, type TestNamespace } from "@runline/testing";
import { describeEnvironment } from "./lib/environment";
import { streamInProcess } from "./lib/in-process";
import { createThread, streamOverHttp } from "./lib/over-http";
import { startCpuMonitor, treeCpuSeconds } from "./lib/quiet";
import { writeSection } from "./lib/results-md";
import { startRunlineProcess, type RunlineTarget } from "./lib/runline-target";
import { median, round } from "./lib/stats";
import { assertTokens } from "./lib/timing";
import type { StoryPace } from "./lib/workload";

const REPO_ROOT = path.resolve(__dirname, "..");

const { values: args } = parseArgs({
  options: {
    concurrency: { type: "string", default: "200" },
    tokens: { type: "string", default: "100" },
    rounds: { type: "string", default: "2" },
    "no-write": { type: "boolean", default: false },
  },
});
const concurrency = Number(args.concurrency);
const pace: StoryPace = { tokens: Number(args.tokens), delayMs: 10 };
const rounds = Number(args.rounds);

/** One process of a layout: its role and the CPUs it is pinned to (undefined = not pinned). */
interface ProcessSpec {
  role: "all" | "api" | "worker";
  cpus?: string;
}
interface Layout {
  name: string;
  cores: number;
  processes: ProcessSpec[];
}

const LAYOUTS: Layout[] = [
  { name: "1 process (API + worker), pinned to core 0", cores: 1, processes: [{ role: "all", cpus: "0" }] },
  { name: "1 API + 1 worker process, both pinned to core 0", cores: 1, processes: [{ role: "api", cpus: "0" }, { role: "worker", cpus: "0" }] },
  { name: "1 API (core 0) + 1 worker (core 1)", cores: 2, processes: [{ role: "api", cpus: "0" }, { role: "worker", cpus: "1" }] },
  {
    name: "2 API + 2 worker processes, one of each per core",
    cores: 2,
    processes: [
      { role: "api", cpus: "0" },
      { role: "worker", cpus: "0" },
      { role: "api", cpus: "1" },
      { role: "worker", cpus: "1" },
    ],
  },
  { name: "1 process (API + worker), not pinned", cores: 2, processes: [{ role: "all" }] },
];

interface Round {
  wallS: number;
  tokensPerS: number;
  runlineCores: number;
  servicesCores: number;
  clientCores: number;
  othersCores: number;
}

async function startLayout(ns: TestNamespace, layout: Layout): Promise<RunlineTarget[]> {
  const targets: RunlineTarget[] = [];
  try {
    for (const p of layout.processes) targets.push(await startRunlineProcess(ns, { cpus: p.cpus, env: { RUNLINE_ROLE: p.role } }));
  } catch (err) {
    await Promise.all(targets.map((t) => t.close()));
    throw err;
  }
  return targets;
}

async function main(): Promise<void> {
  const ns = await createTestNamespace("scaleout");
  const pool = createPool(ns.databaseUrl, ns.schema);
  try {
    const machine = await describeEnvironment(ns.redis, ns.pool);
    const tokens = concurrency * pace.tokens;
    const graph = compileStoryGraph((await createCheckpointer(pool, ns.schema)) as unknown as BaseCheckpointSaver);
    const measure = async (work: () => Promise<void>, runlinePids: number[]): Promise<Round> => {
      const monitor = startCpuMonitor();
      const cpu0 = runlinePids.reduce((s, pid) => s + treeCpuSeconds(pid), 0);
      const self0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await work();
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      const runlineCpu = runlinePids.reduce((s, pid) => s + treeCpuSeconds(pid), 0) - cpu0;
      const self = process.cpuUsage(self0);
      const share = monitor.stop();
      const clientCores = (self.user + self.system) / 1e6 / wallS;
      return { wallS, tokensPerS: tokens / wallS, runlineCores: runlineCpu / wallS, servicesCores: share.servicesCores, clientCores, othersCores: share.othersCores - runlineCpu / wallS };
    };

    // In-process LangGraph in this process: one event loop, so about one core at most.
    const inProcessRun = async () => {
      const runs = await Promise.all(Array.from({ length: concurrency }, () => streamInProcess(graph, pace)));
      for (const r of runs) assertTokens("in-process run", r, pace.tokens);
    };
    await inProcessRun();
    const inProcess: Round[] = [];
    for (let r = 0; r < rounds; r++) inProcess.push(await measure(inProcessRun, []));

    const results: Array<{ layout: Layout; rounds: Round[] }> = [];
    for (const layout of LAYOUTS) {
      console.error(`bench: ${layout.name} …`);
      const targets = await startLayout(ns, layout);
      try {
        const apis = targets.filter((_, i) => layout.processes[i]!.role !== "worker");
        // Runs go round-robin over the layout's API processes, as a load balancer in front of them would.
        // Threads are created before each round, ten at a time: the measured work is the runs alone.
        const newThreads = async () => {
          const threads: Array<{ id: string; url: string }> = [];
          for (let i = 0; i < concurrency; i += 10) {
            const batch = Array.from({ length: Math.min(10, concurrency - i) }, (_, k) => apis[(i + k) % apis.length]!.url);
            threads.push(...(await Promise.all(batch.map(async (url) => ({ id: await createThread(url), url })))));
          }
          return threads;
        };
        const work = (threads: Array<{ id: string; url: string }>) => async () => {
          const runs = await Promise.all(threads.map((t) => streamOverHttp(t.url, t.id, pace)));
          for (const r of runs) assertTokens("run", r, pace.tokens);
        };
        await work(await newThreads())(); // warm-up: JIT and connection pools of every process
        const out: Round[] = [];
        for (let r = 0; r < rounds; r++) out.push(await measure(work(await newThreads()), targets.map((t) => t.pid)));
        results.push({ layout, rounds: out });
      } finally {
        await Promise.all(targets.map((t) => t.close()));
      }
    }

    const command = `npx tsx bench/scale-out.ts ${process.argv.slice(2).join(" ")}`.trim();
    const report = { env: machine, command, workload: { concurrency, ...pace, rounds }, inProcess, results };
    mkdirSync(path.join(REPO_ROOT, "bench/out"), { recursive: true });
    writeFileSync(path.join(REPO_ROOT, "bench/out/scale-out.json"), JSON.stringify(report, null, 2) + "\n");
    const f = (v: number, d = 1) => String(round(v, d));
    const med = (rs: Round[], k: keyof Round) => median(rs.map((r) => r[k]));
    const base = med(inProcess, "tokensPerS");
    const oneCore = med(results[0]!.rounds, "tokensPerS");
    const lines = [
      `Measured ${machine.date} on ${machine.nproc} cores (${machine.cpuModel}), Node ${machine.node}; Redis ${machine.redis}, Postgres ${machine.postgres}; code: git ${machine.git}.`,
      `Command: \`${command}\` (raw: \`bench/out/scale-out.json\`).`,
      "",
      `${concurrency} concurrent story runs × ${pace.tokens} tokens at ${pace.delayMs} ms (${tokens.toLocaleString("en-US")} tokens per round; asks for more CPU than the machine has, so`,
      `tokens/s is each layout's capacity), ${rounds} rounds per layout after a warm-up round, median. Runline processes started as`,
      "`main.ts --role all|api|worker`, each pinned with `taskset -c`; runs go round-robin over the API processes. The SSE",
      "clients run in the benchmark process, not pinned; Redis and Postgres are not pinned either. Cores = CPU-seconds / wall.",
      "",
      "| Layout | Cores pinned | Tokens/s | vs 1 process on 1 core | Tokens/s per Runline core | Runline cores used | Postgres + Redis cores | Client cores | Other sessions' cores |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      `| In-process LangGraph (benchmark process, one event loop) | – | ${f(base, 0)} | ${f(base / oneCore, 2)}× | – | ${f(med(inProcess, "clientCores"), 2)} | ${f(med(inProcess, "servicesCores"), 2)} | – | ${f(med(inProcess, "othersCores"), 2)} |`,
      ...results.map(({ layout, rounds: rs }) => {
        const tps = med(rs, "tokensPerS");
        const cores = med(rs, "runlineCores");
        return `| ${layout.name} | ${layout.processes.every((p) => p.cpus) ? layout.cores : "–"} | ${f(tps, 0)} | ${f(tps / oneCore, 2)}× | ${f(tps / cores, 0)} | ${f(cores, 2)} | ${f(med(rs, "servicesCores"), 2)} | ${f(med(rs, "clientCores"), 2)} | ${f(med(rs, "othersCores"), 2)} |`;
      }),
    ];
    const section = lines.join("\n");
    console.log(section);
    if (!args["no-write"]) writeSection(path.join(REPO_ROOT, "bench/RESULTS.md"), "Scale-out", section);
  } finally {
    await pool.end();
    await ns.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error("bench: FAILED:", err);
    process.exit(1);
  },
);
