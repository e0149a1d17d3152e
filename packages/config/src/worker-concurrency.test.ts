import { loadConfig } from "./config";
import { autoWorkerConcurrency, MAX_AUTO_CONCURRENCY, RUN_MEMORY_MB } from "./worker-concurrency";

const GB = 1024 ** 3;

describe("autoWorkerConcurrency", () => {
  it("gives the runs half the heap at RUN_MEMORY_MB each", () => {
    expect(autoWorkerConcurrency(4 * GB)).toBe(Math.floor((2 * GB) / (RUN_MEMORY_MB * 1024 * 1024)));
    expect(autoWorkerConcurrency(2 * GB)).toBe(Math.floor(GB / (RUN_MEMORY_MB * 1024 * 1024)));
  });

  it("stays within [16, 1000] on tiny and huge heaps", () => {
    expect(autoWorkerConcurrency(64 * 1024 * 1024)).toBe(16);
    expect(autoWorkerConcurrency(64 * GB)).toBe(MAX_AUTO_CONCURRENCY);
  });

  it("is the default; a number in RUNLINE_WORKER_CONCURRENCY is used as given", () => {
    expect(loadConfig({}).workerConcurrency).toBe(autoWorkerConcurrency());
    expect(loadConfig({ RUNLINE_WORKER_CONCURRENCY: "auto" }).workerConcurrency).toBe(autoWorkerConcurrency());
    expect(loadConfig({ RUNLINE_WORKER_CONCURRENCY: "7" }).workerConcurrency).toBe(7);
    expect(() => loadConfig({ RUNLINE_WORKER_CONCURRENCY: "0" })).toThrow(/RUNLINE_WORKER_CONCURRENCY/);
  });
});
