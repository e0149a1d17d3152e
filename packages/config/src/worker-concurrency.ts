import { getHeapStatistics } from "node:v8";

/**
 * Heap one running run costs a worker process, measured: 50 story runs of 100 tokens raise the Runline process's
 * RSS by 214 MB (368 MB at the peak against 154 MB idle, `bench/run-bench.ts --runline-process`), about 4.3 MB
 * each with the API's SSE side included. Rounded up, since real model runs hold longer histories.
 */
export const RUN_MEMORY_MB = 5;
/** Share of the V8 heap limit the runs may take; the rest is Runline, LangGraph, GC headroom. */
const RUN_HEAP_SHARE = 0.5;
/** Beyond this one process's event loop, not its memory, is the limit: add worker processes instead. */
export const MAX_AUTO_CONCURRENCY = 1000;
/** Never fewer than this, even on a small heap. */
const MIN_AUTO_CONCURRENCY = 16;

/**
 * The default `RUNLINE_WORKER_CONCURRENCY` (`auto`): as many runs as half the V8 heap holds at
 * {@link RUN_MEMORY_MB} each, within [16, 1000]. A model run is nearly all waiting on the provider, so a fixed cap
 * like 64 leaves the machine idle while runs queue; memory is what really runs out (a heap of 4 GB, Node's
 * default on a large machine, gives 409).
 */
export function autoWorkerConcurrency(heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  const byMemory = Math.floor((heapLimitBytes * RUN_HEAP_SHARE) / (RUN_MEMORY_MB * 1024 * 1024));
  return Math.max(MIN_AUTO_CONCURRENCY, Math.min(MAX_AUTO_CONCURRENCY, byMemory));
}
