// Runline "Foundation" benchmark: how much does running a LangGraph graph through Runline (HTTP → Postgres →
// BullMQ → worker → Redis journal → SSE) cost over running the same graph in-process?
//
//   npx tsx bench/run-bench.ts                 full run: single-run latency + 50 concurrent runs; writes the
//                                              "Foundation" section of bench/RESULTS.md and bench/out/foundation.json
//   npx tsx bench/run-bench.ts --only concurrent-runline     one scenario (no RESULTS.md update), e.g. to profile:
//   node --import tsx --cpu-prof --cpu-prof-dir bench/out/prof/runline bench/run-bench.ts --only concurrent-runline
//   npx tsx bench/summarize-cpuprofile.ts bench/out/prof/runline --window concurrent-runline
//
//   npx tsx bench/run-bench.ts --runline-process   the same scenarios with Runline in its own OS process, as deployed
//                                              (`node --import tsx apps/runline/src/main.ts --role all --no-demo`): API +
//                                              worker there, SSE clients + in-process baseline here. Writes
//                                              bench/out/foundation-process.json; the Foundation section shows both runs.
//
// Options: --iterations N (single runs per side, 20)  --warmup N (2)  --rounds N (concurrent rounds per side, 5)
//          --concurrency N (50)  --baseline-saver postgres|memory (postgres)  --runline-process
//          --quiet-wait S (wait up to S s for the machine to be quiet first, 180)  --no-write
//
// By default everything runs in ONE process on a private Redis prefix / Postgres schema that is removed at the end.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { MemorySaver, type BaseCheckpointSaver } from "@langchain/langgraph";
import { createCheckpointer } from "@runline/checkpoint";
import { createPool } from "@runline/db";
import { compileStoryGraph } from "@runline/graphs";
import { createTestNamespace } from "@runline/testing";
import type { Pool } from "pg";
import { judge, rounded, summarizeConcurrent, summarizeLatency, type ConcurrentSummary, type LatencySummary } from "./lib/derive";
import { describeEnvironment } from "./lib/environment";
import { profileIo, type IoProfile } from "./lib/io-profile";
import { pgBackendsOf, QuietGate, taggedDatabaseUrl, waitForQuiet } from "./lib/quiet";
import { renderFoundationFromFiles, writeSection } from "./lib/results-md";
import { procMemoryMb, startInProcessRunline, startRunlineProcess, type RunlineTarget } from "./lib/runline-target";
import { measureConcurrent, measureLatency, windows, type Targets } from "./lib/scenarios";
import { IoTracer } from "./lib/trace";

const REPO_ROOT = path.resolve(__dirname, "..");
const OUT_DIR = path.join(REPO_ROOT, "bench", "out");
const RESULTS_MD = path.join(REPO_ROOT, "bench", "RESULTS.md");

const SCENARIOS = ["latency", "concurrent", "concurrent-runline", "concurrent-inprocess"] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Options {
  scenarios: Set<Scenario>;
  partial: boolean;
  iterations: number;
  warmup: number;
  rounds: number;
  concurrency: number;
  baselineSaver: "postgres" | "memory";
  runlineProcess: boolean;
  quietWaitS: number;
  write: boolean;
}

function readOptions(argv = process.argv.slice(2)): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: "string" },
      iterations: { type: "string", default: "20" },
      warmup: { type: "string", default: "2" },
      rounds: { type: "string", default: "5" },
      concurrency: { type: "string", default: "50" },
      "baseline-saver": { type: "string", default: "postgres" },
      "runline-process": { type: "boolean", default: false },
      "quiet-wait": { type: "string", default: "180" },
      "no-write": { type: "boolean", default: false },
    },
  });
  const only = values.only?.split(",").map((s) => s.trim()) ?? [];
  for (const s of only) if (!SCENARIOS.includes(s as Scenario)) throw new Error(`--only: unknown scenario "${s}" (${SCENARIOS.join(", ")})`);
  const saver = values["baseline-saver"];
  if (saver !== "postgres" && saver !== "memory") throw new Error(`--baseline-saver must be postgres or memory`);
  const int = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
    return n;
  };
  return {
    scenarios: new Set((only.length ? only : ["latency", "concurrent"]) as Scenario[]),
    partial: only.length > 0,
    iterations: int("iterations", values.iterations),
    warmup: int("warmup", values.warmup),
    rounds: int("rounds", values.rounds),
    concurrency: int("concurrency", values.concurrency),
    baselineSaver: saver,
    runlineProcess: values["runline-process"]!,
    quietWaitS: int("quiet-wait", values["quiet-wait"]),
    write: !values["no-write"],
  };
}

/** The `--cpu-prof-dir` this process was started with, if any. */
function cpuProfDir(): string | null {
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--cpu-prof-dir") return path.resolve(args[i + 1] ?? ".");
    if (args[i]!.startsWith("--cpu-prof-dir=")) return path.resolve(args[i]!.slice("--cpu-prof-dir=".length));
  }
  return null;
}

/**
 * The baseline graph. With `postgres` it checkpoints through the same saver class on the same schema (its own
 * pool of the same size as Runline's), so the baseline pays the same checkpoint writes and the difference
 * is Runline's own machinery.
 */
async function baselineSaver(kind: Options["baselineSaver"], pool: Pool, schema: string): Promise<BaseCheckpointSaver> {
  if (kind === "memory") return new MemorySaver();
  return (await createCheckpointer(pool, schema)) as unknown as BaseCheckpointSaver;
}

async function main(): Promise<void> {
  const opts = readOptions();
  // Patches pg/ioredis only during the I/O profile phase, after the timed scenarios.
  const tracer = new IoTracer();
  const ns = await createTestNamespace("bench");
  let runline: RunlineTarget | undefined;
  let basePool: Pool | undefined;
  try {
    // In-process: API + worker in this process, configured as the tests do. Own process: as deployed (main.ts).
    // Tagged with application_name so the QuietGate can tell our Postgres backends from other sessions'.
    const pgTag = `bench-${ns.id}`;
    const databaseUrl = taggedDatabaseUrl(ns.databaseUrl, pgTag);
    runline = opts.runlineProcess ? await startRunlineProcess(ns, { databaseUrl }) : await startInProcessRunline(ns, { databaseUrl });
    const config = runline.config;
    basePool = createPool(databaseUrl, ns.schema); // same default size (20) as Runline's pool
    const graph = compileStoryGraph(await baselineSaver(opts.baselineSaver, basePool, ns.schema));
    const gate = new QuietGate([process.pid, runline.pid], pgBackendsOf(basePool, pgTag));
    const targets: Targets = { graph, baseUrl: runline.url, runlinePid: runline.pid, gate };
    const env = await describeEnvironment(ns.redis, ns.pool);
    console.error(`bench: Runline (${runline.mode}, pid ${runline.pid}) at ${targets.baseUrl}, namespace ${ns.id}, ${env.nproc} cores, node ${env.node}`);
    await waitForQuiet(opts.quietWaitS * 1000);

    let latency: LatencySummary | null = null;
    if (opts.scenarios.has("latency")) {
      console.error(`bench: single-run latency, ${opts.iterations} runs per side (+${opts.warmup} warm-up) …`);
      latency = summarizeLatency(await measureLatency(targets, { tokens: 200, delayMs: 10 }, opts.iterations, opts.warmup));
    }
    let concurrent: ConcurrentSummary | null = null;
    const sides = {
      inProcess: opts.scenarios.has("concurrent") || opts.scenarios.has("concurrent-inprocess"),
      runline: opts.scenarios.has("concurrent") || opts.scenarios.has("concurrent-runline"),
    };
    if (sides.inProcess || sides.runline) {
      console.error(`bench: ${opts.concurrency} concurrent runs, ${opts.rounds} rounds per side …`);
      const raw = await measureConcurrent(targets, { tokens: 100, delayMs: 10 }, opts.concurrency, opts.rounds, sides);
      concurrent = summarizeConcurrent(raw);
    }

    let io: IoProfile | null = null;
    // The tracer patches pg/ioredis in this process: it sees Runline's I/O only when Runline runs in here.
    if (!opts.partial && runline.mode === "in-process") {
      console.error("bench: I/O profile (one traced run per side) …");
      io = await profileIo(targets, tracer, { tokens: 100, delayMs: 10 });
    }

    const goals = judge(latency, concurrent);
    const baseline =
      opts.baselineSaver === "postgres"
        ? "`compileStoryGraph(createCheckpointer(pool, schema))`: the same story graph with the same Postgres checkpointer (`BranchSafePostgresSaver`, same schema, its own pool of 20), `graph.stream` with `streamMode: [\"messages\", \"values\"]`."
        : "`compileStoryGraph(new MemorySaver())`: the same story graph with an in-memory checkpointer (no Postgres writes).";
    const runlineSettings =
      runline.mode === "in-process"
        ? `\`startRunline\` with API and BullMQ worker in this process (worker concurrency ${config.workerConcurrency}, Postgres pool 20), story graph from \`runline.json\`, \`stream_mode: ["values", "messages-tuple"]\`, client = \`openSse\` from \`@runline/testing\` (fetch, same process).`
        : `its own OS process (\`node --import tsx apps/runline/src/main.ts --role all --no-demo\`: API and BullMQ worker, worker concurrency ${config.workerConcurrency}, Postgres pool 20), story graph from \`runline.json\`, \`stream_mode: ["values", "messages-tuple"]\`, client = \`openSse\` from \`@runline/testing\` in the benchmark process.`;
    const command = `npx tsx bench/run-bench.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
    const runlineProcess = runline.mode === "own-process" ? (({ rssMb, hwmMb }) => ({ pid: runline!.pid, hwmMb, rssAtEndMb: rssMb }))(procMemoryMb(runline.pid)) : null;
    const output = rounded({
      env,
      command,
      mode: runline.mode,
      options: { ...opts, scenarios: [...opts.scenarios] },
      baseline: opts.baselineSaver,
      baselineText: baseline,
      runlineSettings,
      latency,
      concurrent,
      goals,
      io,
      runlineProcess,
      discards: { samples: gate.discarded, waitedMs: gate.waitedMs },
      windows,
    });

    mkdirSync(OUT_DIR, { recursive: true });
    const stem = runline.mode === "own-process" ? "foundation-process" : "foundation";
    const jsonName = opts.partial ? `${stem}-${[...opts.scenarios].join("+")}.json` : `${stem}.json`;
    writeFileSync(path.join(OUT_DIR, jsonName), JSON.stringify(output, null, 2) + "\n");
    // The profiler's clock for each phase, so summarize-cpuprofile.ts can cut a whole-process profile down to one
    // phase; also next to the profile when running under --cpu-prof-dir, where the summariser looks first.
    for (const dir of [OUT_DIR, cpuProfDir()].filter((d): d is string => !!d)) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, "windows.json"), JSON.stringify(windows, null, 2) + "\n");
    }

    const completeRun = Boolean(latency && concurrent?.inProcess && concurrent.runline && (io || runline.mode === "own-process"));
    const section = completeRun ? renderFoundationFromFiles(OUT_DIR, { baseline, runlineSettings }) : null;
    if (section) {
      // The section shows the single-process run and the own-process run side by side (from their JSON files),
      // whichever of the two ran last.
      console.log(section);
      if (opts.write) writeSection(RESULTS_MD, "Foundation", section);
      console.error(`bench: wrote bench/out/${jsonName}${opts.write ? " and the Foundation section of bench/RESULTS.md" : ""}`);
    } else {
      console.log(JSON.stringify(rounded({ latency, concurrent, goals }), null, 2));
      console.error(`bench: partial run; wrote bench/out/${jsonName} (RESULTS.md untouched)`);
    }
  } finally {
    await runline?.close();
    await basePool?.end();
    await ns.cleanup();
  }
}

main().then(
  // Explicit exit: a stray keep-alive socket must not keep a finished benchmark alive (and --cpu-prof
  // writes its profile on exit either way).
  () => process.exit(0),
  (err) => {
    console.error("bench: FAILED:", err);
    process.exit(1);
  },
);
