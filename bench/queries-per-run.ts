// Postgres queries per run, by statement (issue #12): Runline in this process, N runs of 100 tokens over HTTP, every
// query any pg client sends counted while they run. Where the database round trips of a run go.
//
//   npx tsx bench/queries-per-run.ts [runs=10]
import { Client as PgClient } from "pg";
import { createTestNamespace } from "@runline/testing";
import { createThread, streamOverHttp } from "./lib/over-http";
import { startInProcessRunline } from "./lib/runline-target";
import { setTimeout as sleep } from "node:timers/promises";

const counts = new Map<string, number>();
let counting = false;
const orig = PgClient.prototype.query as (...a: unknown[]) => unknown;
(PgClient.prototype as { query: unknown }).query = function (this: unknown, ...args: unknown[]) {
  if (counting) {
    const q = args[0];
    const text = typeof q === "string" ? q : (q as { text?: string })?.text ?? "?";
    const key = text.replace(/\s+/g, " ").trim().slice(0, 70);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return orig.apply(this, args);
};

async function main() {
  const ns = await createTestNamespace("diagq");
  const target = await startInProcessRunline(ns);
  try {
    const warm = await createThread(target.url);
    await streamOverHttp(target.url, warm, { tokens: 100, delayMs: 1 });
    await sleep(1500);
    const runs = Number(process.argv[2] ?? 10);
    const threads = await Promise.all(Array.from({ length: runs }, () => createThread(target.url)));
    counting = true;
    await Promise.all(threads.map((t) => streamOverHttp(target.url, t, { tokens: 100, delayMs: 10 })));
    await sleep(1500);
    counting = false;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(`queries per run: ${(total / runs).toFixed(1)}`);
    for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1])) console.log((v / runs).toFixed(2).padStart(6), k);
  } finally {
    await target.close();
    await ns.cleanup();
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
