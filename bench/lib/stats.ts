/** Small, dependency-free statistics for benchmark samples (all values in milliseconds unless named otherwise). */

/** Linear-interpolated percentile (the "R-7"/Excel method): p in [0, 100]. NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  const n = samples.length;
  return {
    n,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    // A loop, not Math.min(...samples): spreading 200k samples (1,000 subscribers × 200 tokens) overflows the stack.
    min: n ? samples.reduce((a, b) => (b < a ? b : a), Infinity) : Number.NaN,
    max: n ? samples.reduce((a, b) => (b > a ? b : a), -Infinity) : Number.NaN,
    mean: n ? samples.reduce((a, b) => a + b, 0) / n : Number.NaN,
  };
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** Rounds for display/JSON so files stay readable (0.01 ms resolution is far below the noise). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
