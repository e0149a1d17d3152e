import type Redis from "ioredis";
import { createRunWorker, type RunWorkerOptions } from "@runline/queue";
import { createRunProcessor, type RunProcessorDeps } from "./processors/run.processor";

export interface RunWorkerHandle {
  close(): Promise<void>;
}

/** Wires the run processor into a BullMQ worker. */
export function startRunWorker(
  connection: Redis,
  prefix: string,
  deps: RunProcessorDeps,
  options: RunWorkerOptions,
  onError: (err: Error) => void,
): RunWorkerHandle {
  const worker = createRunWorker(connection, prefix, createRunProcessor(deps), options);
  worker.on("error", onError);
  worker.on("failed", (_job, err) => onError(err));
  return {
    async close() {
      await worker.close();
    },
  };
}
