import { getHeapStatistics, setFlagsFromString } from "node:v8";

/** Below this heap limit V8 already caps its growth factor at 1.3–2×; only above it does it go up to 4×. */
const LARGE_HEAP_BYTES = 2 * 1024 ** 3;

/**
 * Caps how far this process's heap grows past its live data (`RUNLINE_HEAP_GROWTH_PERCENT`, V8's
 * `--heap-growing-percent`). V8 reads the factor at every full collection, so setting it before the heap grows is as
 * good as the command-line flag. Only on a heap whose limit lets V8 go to 4×: on a smaller one (a container, a
 * `--max-old-space-size` below 2 GB) V8's own factor is already lower, and the flag would raise it. Returns whether
 * it was applied.
 */
export function applyHeapGrowth(percent: number, heapLimitBytes = getHeapStatistics().heap_size_limit): boolean {
  if (percent <= 0 || heapLimitBytes < LARGE_HEAP_BYTES) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
