// `npm run chaos [-- SCENARIO...]`: fault-injection at scale (issue #8), outside `npm test`. Each scenario starts
// Runline on a namespace of its own (private Redis/Postgres where it restarts them), injects its fault, waits
// for every run to end, audits journals, rows and checkpoints, and cleans up. Results: the "Faults (npm run
// chaos)" section of bench/RESULTS.md and bench/chaos/results.json (a one-scenario run replaces only its row).
// Exit code 1 when a target was missed: the suite is a check, not only a report.
import path from "node:path";
import Redis from "ioredis";
import { Pool } from "pg";
import { testServiceUrls } from "@runline/testing";
import { describeEnvironment } from "../lib/environment";
import { figuresOf, mergeJson, renderSection, verdictsOf, writeMarkdown } from "./report";
import { runScenario, type ScenarioResult } from "./scenario";
import { SCENARIOS } from "./scenarios";

const RESULTS_MD = path.resolve(__dirname, "../RESULTS.md");
const RESULTS_JSON = path.resolve(__dirname, "results.json");

async function main() {
  const names = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  const selected = names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
  const command = `npm run chaos${names.length ? ` -- ${names.join(" ")}` : ""}`;
  const results: ScenarioResult[] = [];
  for (const scenario of selected) {
    console.log(`chaos: ${scenario.name}: ${scenario.summary}`);
    const result = await runScenario(scenario).catch((err): ScenarioResult => failedOutright(scenario.name, scenario.summary, err));
    const figures = figuresOf(result);
    const missed = verdictsOf(result, figures).filter((v) => v.met === false);
    console.log(`chaos: ${scenario.name}: ${result.durationS} s, ${figures.runs} runs ${JSON.stringify(figures.endedAs)}, recovery ${figures.recoveryS ?? "–"} s; ${missed.length ? `MISSED ${missed.map((v) => v.target).join(", ")}` : "all targets met"}`);
    results.push(result);
  }
  const env = await environment();
  const json = mergeJson(RESULTS_JSON, results, env, command);
  const entries = SCENARIOS.filter((s) => json.scenarios[s.name]).map((s) => json.scenarios[s.name]);
  const section = renderSection(entries, env, command);
  writeMarkdown(RESULTS_MD, section);
  console.log(`\n${section}`);
  return results.some((r) => verdictsOf(r, figuresOf(r)).some((v) => v.met === false)) ? 1 : 0;
}

/** A scenario that failed outside its body (rig start, audit) is a row too, with the reason. */
function failedOutright(name: string, summary: string, err: unknown): ScenarioResult {
  console.error(`chaos: ${name}: failed: ${(err as Error).stack ?? err}`);
  return {
    name, summary, measuredAt: new Date().toISOString(), durationS: 0, error: `failed outside the scenario body: ${(err as Error).message}`,
    runs: [], threads: [], recoveryS: null, recovered: { ok: false, detail: "not measured" },
    takeovers: { takeovers: 0, afterSignal: 0, other: 0, unknown: 0, examples: [] }, notGuaranteed: {}, notes: [], logDir: "", flaggedLogs: {},
  };
}

/** Machine and server versions (the shared services; the private servers are the same binaries). */
async function environment() {
  const urls = testServiceUrls();
  const redis = new Redis(urls.redisUrl, { lazyConnect: true });
  const pool = new Pool({ connectionString: urls.databaseUrl, max: 1 });
  try {
    await redis.connect();
    return await describeEnvironment(redis, pool);
  } finally {
    redis.disconnect();
    await pool.end();
  }
}

// Ctrl-C: exit at once; the 'exit' hooks SIGKILL every Runline process and private server this suite started.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
