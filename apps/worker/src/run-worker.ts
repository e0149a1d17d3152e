import type Redis from "ioredis";
import { errorFields, type Logger } from "@runline/observability";
import { createRunWorker, type RunWorkerOptions } from "@runline/queue";
import { createRunProcessor, type RunProcessorDeps } from "./processors/run.processor";

export interface RunWorkerHandle {
  close(): Promise<void>;
}

/** Wires the run processor into a BullMQ worker; the worker's own events (errors, failed and stalled jobs) go to `logger`. */
export function startRunWorker(connection: Redis, prefix: string, deps: RunProcessorDeps, options: RunWorkerOptions, logger: Logger): RunWorkerHandle {
  const worker = createRunWorker(connection, prefix, createRunProcessor(deps), options);
  // Connection trouble (Redis down): BullMQ retries by itself, so this is a warning, not a crash.
  worker.on("error", (err) => logger.warn("Worker error", errorFields(err)));
  worker.on("failed", (job, err) => logger.error("Run job failed", { jobId: job?.id, runId: job?.data?.runId, ...errorFields(err) }));
  // A worker holding this job stopped renewing its lock (it died): another worker takes the run over.
  worker.on("stalled", (jobId) => logger.warn("Run job stalled", { jobId }));
  return {
    async close() {
      await worker.close();
    },
  };
}
