// Where a run's time goes under load (issue #12): N SDK streams at once against Runline in its own processes, then
// the runs table's created → dispatched → started → finished times (quantiles from the round's start, and gaps).
//
//   npx tsx bench/run-timeline.ts [streams=400]
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { createTestNamespace } from "@runline/testing";
import { startRunlineProcess } from "./lib/runline-target";

async function main() {
  const n = Number(process.argv[2] ?? 400);
  const ns = await createTestNamespace("diagt");
  const target = await startRunlineProcess(ns, { env: { LOG_LEVEL: "warn" } }, 90_000);
  try {
    await promisify(execFile)(process.execPath, ["--import", "tsx", path.join(__dirname, "lib/scale-client.ts"), target.url, "10", "100", "10"], { maxBuffer: 1 << 26 });
    const t0 = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", path.join(__dirname, "lib/scale-client.ts"), target.url, String(n), "100", "10"], { maxBuffer: 1 << 26 });
    const r = JSON.parse(stdout);
    console.log("wall", r.wallMs.toFixed(0));
    const { rows } = await ns.pool.query(
      `SELECT extract(epoch from created_at)*1000 AS c, extract(epoch from dispatched_at)*1000 AS d, extract(epoch from started_at)*1000 AS s, extract(epoch from finished_at)*1000 AS f FROM "${ns.schema}".runs WHERE created_at > to_timestamp($1/1000.0) ORDER BY created_at`,
      [t0],
    );
    const rel = (x: number) => ((x - t0) / 1000).toFixed(2);
    const pct = (arr: number[], p: number) => arr.sort((a, b) => a - b)[Math.floor((arr.length - 1) * p)]!;
    for (const [name, f] of [["created", (x: any) => +x.c], ["dispatched", (x: any) => +x.d], ["started", (x: any) => +x.s], ["finished", (x: any) => +x.f]] as const) {
      const v = rows.map(f);
      console.log(name.padEnd(11), [0, 0.1, 0.5, 0.9, 1].map((p) => rel(pct(v, p))).join("  "));
    }
    const gap = (a: (x: any) => number, b: (x: any) => number) => rows.map((x) => b(x) - a(x));
    console.log("create→dispatch ms p50/p90", pct(gap((x) => +x.c, (x) => +x.d), 0.5).toFixed(0), pct(gap((x) => +x.c, (x) => +x.d), 0.9).toFixed(0));
    console.log("dispatch→start ms p50/p90", pct(gap((x) => +x.d, (x) => +x.s), 0.5).toFixed(0), pct(gap((x) => +x.d, (x) => +x.s), 0.9).toFixed(0));
    console.log("start→finish ms p50/p90", pct(gap((x) => +x.s, (x) => +x.f), 0.5).toFixed(0), pct(gap((x) => +x.s, (x) => +x.f), 0.9).toFixed(0));
  } finally {
    await target.close();
    await ns.cleanup();
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
