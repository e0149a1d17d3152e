export interface MemoryPeak {
  /** Samples taken (one every `intervalMs`, plus one at start and stop). */
  samples: number;
  rssBeforeMb: number;
  peakRssMb: number;
  peakHeapUsedMb: number;
  peakHeapTotalMb: number;
}

const MB = 1024 * 1024;

/**
 * Samples `process.memoryUsage()` every `intervalMs` until stopped and keeps the peaks. API, worker and
 * client all live in this one process, so these are whole-process numbers, not per-component ones.
 * Timer sampling can be late under load, so a very short spike between two samples can be missed.
 */
export function startMemorySampler(intervalMs = 50): { stop(): MemoryPeak } {
  const before = process.memoryUsage();
  const peak: MemoryPeak = {
    samples: 1,
    rssBeforeMb: before.rss / MB,
    peakRssMb: before.rss / MB,
    peakHeapUsedMb: before.heapUsed / MB,
    peakHeapTotalMb: before.heapTotal / MB,
  };
  const sample = () => {
    const m = process.memoryUsage();
    peak.samples += 1;
    peak.peakRssMb = Math.max(peak.peakRssMb, m.rss / MB);
    peak.peakHeapUsedMb = Math.max(peak.peakHeapUsedMb, m.heapUsed / MB);
    peak.peakHeapTotalMb = Math.max(peak.peakHeapTotalMb, m.heapTotal / MB);
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** The current value of the monotonic clock V8's CPU profiler stamps samples with (µs). */
export function profilerClockMicros(): number {
  // uv_hrtime and V8's TimeTicks both read CLOCK_MONOTONIC on Linux, so these line up with .cpuprofile times.
  return Number(process.hrtime.bigint() / 1000n);
}
