import { Queue, Worker, type Job, type Processor } from "bullmq";
import type Redis from "ioredis";
import { z } from "zod";

/** The one queue Runline uses: one job per run attempt chain, job id = run id. */
export const RUN_QUEUE_NAME = "runs";
export const RUN_JOB_NAME = "run.execute";

/**
 * BullMQ's key prefix for Runline's `prefix`. BullMQ's scripts touch many keys of one queue at once, so in a Redis
 * Cluster they must share a slot: the `{q}` hash tag puts every queue key in one, and keeps them under
 * `prefix:*` for cleanup. Journal keys carry their run id as the tag instead, so they spread over the shards.
 */
export function queuePrefix(prefix: string): string {
  return `${prefix}:{q}`;
}

export const RunJobPayload = z.object({ runId: z.string().min(1), threadId: z.string().min(1) });
export type RunJobPayload = z.infer<typeof RunJobPayload>;
export type RunJob = Job<RunJobPayload, unknown, typeof RUN_JOB_NAME>;

export interface RunQueue {
  queue: Queue<RunJobPayload, unknown, typeof RUN_JOB_NAME>;
  /** Adds the run's job; adding the same run twice is a no-op (the job id is the run id). */
  enqueue(payload: RunJobPayload, delayMs?: number): Promise<void>;
  /** Removes a job that no worker holds yet; true when it was removed. */
  removeWaiting(runId: string): Promise<boolean>;
  /** The BullMQ state of the run's job: `unknown` when there is none. */
  jobState(runId: string): Promise<string>;
  /**
   * Puts a run whose job was lost back on the queue: a finished (`completed`/`failed`) job is removed first,
   * since a kept job id makes `add` a no-op. A job still waiting, delayed or active is left alone. Returns true
   * when a job was added.
   */
  requeue(payload: RunJobPayload, delayMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export function createRunQueue(connection: Redis, prefix: string): RunQueue {
  const queue = new Queue<RunJobPayload, unknown, typeof RUN_JOB_NAME>(RUN_QUEUE_NAME, {
    connection,
    prefix: queuePrefix(prefix),
    defaultJobOptions: {
      // A failed story is not retried from scratch: a cancelled or crashed run is finished by Runline itself.
      attempts: 1,
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 24 * 3600 },
    },
  });
  queue.on("error", () => undefined);
  return {
    queue,
    async enqueue(payload, delayMs = 0) {
      const parsed = RunJobPayload.parse(payload);
      await queue.add(RUN_JOB_NAME, parsed, { jobId: parsed.runId, ...(delayMs > 0 ? { delay: delayMs } : {}) });
    },
    async removeWaiting(runId) {
      return (await queue.remove(runId)) === 1;
    },
    jobState: (runId) => queue.getJobState(runId),
    async requeue(payload, delayMs = 0) {
      const state = await queue.getJobState(payload.runId);
      if (state === "completed" || state === "failed") {
        // remove() refuses a locked job, so a job a worker just picked up again cannot be pulled from under it.
        if ((await queue.remove(payload.runId)) !== 1) return false;
      } else if (state !== "unknown") {
        return false;
      }
      await queue.add(RUN_JOB_NAME, RunJobPayload.parse(payload), { jobId: payload.runId, ...(delayMs > 0 ? { delay: delayMs } : {}) });
      return true;
    },
    close: () => queue.close(),
  };
}

export interface RunWorkerOptions {
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/**
 * Starts a BullMQ worker for runs. The processor must declare three parameters `(job, token, signal)`:
 * BullMQ only passes the AbortSignal to processors whose `length` is at least 3.
 */
export function createRunWorker(
  connection: Redis,
  prefix: string,
  processor: Processor<RunJobPayload, unknown, typeof RUN_JOB_NAME>,
  options: RunWorkerOptions,
): Worker<RunJobPayload, unknown, typeof RUN_JOB_NAME> {
  if (processor.length < 3) throw new Error("run processor must declare (job, token, signal) to receive the abort signal");
  return new Worker(RUN_QUEUE_NAME, processor, {
    connection,
    prefix: queuePrefix(prefix),
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: 1,
  });
}
