// Where does the in-process partial save (savePartialOutput: getState + updateState) spend its time?
//   npx tsx bench/micro/cancel-save.ts [--n 30]
// Cancels N in-process story runs after 15 tokens and records every Postgres query of the save with its duration.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { createCheckpointer } from "@runline/checkpoint";
import type { RunRecord } from "@runline/core";
import { createPool } from "@runline/db";
import { PartialCollector, RunSettledHandler, RunStoppedError, savePartialOutput, type RunnableGraph } from "@runline/engine";
import { compileStoryGraph } from "@runline/graphs";
import { createTestNamespace } from "@runline/testing";
import { median } from "../lib/stats";
import { IoTracer } from "../lib/trace";
import { storyInput } from "../lib/workload";

async function main() {
  const { values } = parseArgs({ options: { n: { type: "string", default: "30" } } });
  const n = Number(values.n);
  const ns = await createTestNamespace("cancelsave");
  const pool = createPool(ns.databaseUrl, ns.schema);
  try {
    const checkpointer = (await createCheckpointer(pool, ns.schema)) as unknown as BaseCheckpointSaver;
    const graph = compileStoryGraph(checkpointer);
    const tracer = new IoTracer();
    tracer.install();
    const rows: Record<string, number[]> = {};
    const spans: Record<string, number[]> = { getState: [], updateState: [], total: [] };
    for (let i = 0; i < n + 3; i++) {
      const runId = randomUUID();
      const threadId = randomUUID();
      const controller = new AbortController();
      const settled = new RunSettledHandler(runId);
      const collector = new PartialCollector();
      const stream = await graph.stream(storyInput(), {
        configurable: { thread_id: threadId, story_tokens: 400, story_token_delay_ms: 10 },
        streamMode: ["messages", "values"],
        signal: controller.signal,
        callbacks: [settled],
        runId,
      });
      let received = 0;
      try {
        for await (const [mode, payload] of stream as AsyncIterable<[string, any]>) {
          if (mode !== "messages") continue;
          collector.add(payload[0], payload[1]);
          if (++received === 15) controller.abort(new RunStoppedError("interrupt", "cancel"));
        }
      } catch {
        /* the abort */
      }
      await settled.wait(5000);
      await new Promise((r) => setTimeout(r, 20));
      tracer.reset();
      tracer.record(true);
      const t0 = performance.now();
      const g = graph as unknown as RunnableGraph;
      const origGet = g.getState.bind(g);
      const origUpdate = g.updateState.bind(g);
      let tGet = 0;
      let tUpd = 0;
      (g as any).getState = async (...a: any[]) => { const s = performance.now(); try { return await (origGet as any)(...a); } finally { tGet = performance.now() - s; } };
      (g as any).updateState = async (...a: any[]) => { const s = performance.now(); try { return await (origUpdate as any)(...a); } finally { tUpd = performance.now() - s; } };
      await savePartialOutput({ graph: g, checkpointer, run: { run_id: runId, thread_id: threadId } as RunRecord, collector, action: "interrupt", reason: "cancel", startCheckpointId: null });
      const total = performance.now() - t0;
      delete (g as any).getState;
      delete (g as any).updateState;
      tracer.record(false);
      const events = tracer.reset();
      if (i < 3) continue; // warm-up
      spans.getState!.push(tGet);
      spans.updateState!.push(tUpd);
      spans.total!.push(total);
      events.forEach((e, k) => (rows[`${String(k).padStart(2, "0")} ${e.kind} ${e.name}`] ??= []).push(e.durationMs));
      if (i === 3) console.log("timeline of one save:", events.map((e) => `${(e.startMs - t0).toFixed(2)}ms +${e.durationMs.toFixed(2)} ${e.name}`));
    }
    console.log("medians (ms):", Object.fromEntries(Object.entries(spans).map(([k, v]) => [k, +median(v).toFixed(2)])));
    for (const [k, v] of Object.entries(rows).sort()) console.log(k.padEnd(50), "median", median(v).toFixed(2), "ms  n", v.length);
    tracer.uninstall();
  } finally {
    await pool.end();
    await ns.cleanup();
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
