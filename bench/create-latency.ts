// How long creating a run takes, as a client sees it: `POST /threads/{tid}/runs` (no stream) on a fresh thread,
// one at a time, Runline's API and worker in this process.
//
//   npx tsx bench/create-latency.ts [--runs N]
//
// Prints the median and p90 of the request, request sent → response parsed (thread creation not timed). The run
// itself goes on in the background; each request waits until the previous run ended, so the worker's work does
// not overlap the next creation.
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { createTestNamespace } from "@runline/testing";
import { createThread } from "./lib/over-http";
import { startInProcessRunline } from "./lib/runline-target";
import { percentile } from "./lib/stats";
import { storyRunBody } from "./lib/workload";

const { values } = parseArgs({ options: { runs: { type: "string", default: "200" } } });
const runs = Number(values.runs);

async function main(): Promise<void> {
  const ns = await createTestNamespace("createlat");
  const runline = await startInProcessRunline(ns);
  const body = storyRunBody({ tokens: 1, delayMs: 0 });
  const samples: number[] = [];
  try {
    for (let i = 0; i < runs + 10; i++) {
      const threadId = await createThread(runline.url);
      const start = performance.now();
      const res = await fetch(`${runline.url}/threads/${threadId}/runs`, { method: "POST", headers: { "content-type": "application/json" }, body });
      const run = (await res.json()) as { run_id: string };
      const took = performance.now() - start;
      if (res.status !== 200) throw new Error(`POST runs answered ${res.status}`);
      if (i >= 10) samples.push(took); // the first 10 warm up
      await fetch(`${runline.url}/threads/${threadId}/runs/${run.run_id}/join`);
    }
    const r = (p: number) => Math.round(percentile(samples, p) * 100) / 100;
    console.log(JSON.stringify({ runs, p50Ms: r(50), p90Ms: r(90) }));
  } finally {
    await runline.close();
    await ns.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
