// Postgres queries per run, by statement (issue #12): Runline in this process, N runs of 100 tokens over HTTP, every
// query any pg client sends counted while they run. Where the database round trips of a run go.
//
//   npx tsx bench/queries-per-run.ts [runs=10]
import { createTestNamespace } from "@runline/testing";
import { installIoCounters } from "./lib/io-counters";
import { createThread, streamOverHttp } from "./lib/over-http";
import { startInProcessRunline } from "./lib/runline-target";
import { setTimeout as sleep } from "node:timers/promises";

const io = installIoCounters();

async function main() {
  const ns = await createTestNamespace("diagq");
  const target = await startInProcessRunline(ns);
  try {
    const warm = await createThread(target.url);
    await streamOverHttp(target.url, warm, { tokens: 100, delayMs: 1 });
    await sleep(1500);
    const runs = Number(process.argv[2] ?? 10);
    const threads = await Promise.all(Array.from({ length: runs }, () => createThread(target.url)));
    io.counting = true;
    await Promise.all(threads.map((t) => streamOverHttp(target.url, t, { tokens: 100, delayMs: 10 })));
    await sleep(1500);
    io.counting = false;
    console.log(`queries per run: ${(io.total("pg ") / runs).toFixed(1)}`);
    console.log(io.report(runs, "pg "));
  } finally {
    await target.close();
    await ns.cleanup();
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
