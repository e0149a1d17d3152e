import type Redis from "ioredis";
import { errorFields, type Logger } from "@runline/observability";
import { createRunWorker, WorkerHeartbeat, type RunWorkerOptions } from "@runline/queue";
import type { AttemptGuard } from "./processors/attempt-guard";
import { createRunProcessor, type RunProcessorDeps } from "./processors/run.processor";

export interface RunWorkerHandle {
  /** `hostname:pid`: the id under which this worker's heartbeat is listed. */
  workerId: string;
  /**
   * Stops fetching jobs, gives the runs in flight `graceMs` to end by themselves, then hands each remaining one
   * to another worker at once (its partial kept as a branch by the next attempt), and closes.
   */
  drain(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface RunWorkerHeartbeatOptions {
  /** Every how often the heartbeat key is rewritten (its TTL is three times this). */
  heartbeatIntervalMs?: number;
  /** The reconciler's repairs so far, shown with the heartbeat on the dashboard. */
  reconciled?: () => Record<string, number>;
}

/**
 * Wires the run processor into a BullMQ worker; the worker's own events (errors, failed and stalled jobs) go to
 * `logger`. While it runs, the process's heartbeat (id, start, concurrency, active run ids) is kept in Redis for
 * the run dashboard; a clean close removes it.
 */
export function startRunWorker(
  connection: Redis,
  prefix: string,
  deps: RunProcessorDeps,
  options: RunWorkerOptions & RunWorkerHeartbeatOptions,
  logger: Logger,
): RunWorkerHandle {
  const attempts = new Map<string, AttemptGuard>();
  const processor = createRunProcessor(deps, attempts);
  const active = new Set<string>();
  const heartbeat = new WorkerHeartbeat(connection, prefix, {
    intervalMs: options.heartbeatIntervalMs,
    concurrency: options.concurrency,
    activeRunIds: () => [...active],
    reconciled: options.reconciled,
  });
  const worker = createRunWorker(
    connection,
    prefix,
    // Three parameters: BullMQ passes the abort signal only to processors that declare it.
    async (job, token, signal) => {
      const runId = typeof job.data?.runId === "string" ? job.data.runId : null;
      if (runId === null) return processor(job, token, signal);
      active.add(runId);
      heartbeat.beat();
      try {
        return await processor(job, token, signal);
      } finally {
        active.delete(runId);
        heartbeat.beat();
      }
    },
    options,
  );
  heartbeat.start();
  // Connection trouble (Redis down): BullMQ retries by itself, so this is a warning, not a crash.
  worker.on("error", (err) => logger.warn("Worker error", errorFields(err)));
  worker.on("failed", (job, err) => logger.error("Run job failed", { jobId: job?.id, runId: job?.data?.runId, ...errorFields(err) }));
  // A worker holding this job stopped renewing its lock (it died): another worker takes the run over.
  worker.on("stalled", (jobId) => logger.warn("Run job stalled", { jobId }));
  // BullMQ only reports a failed renewal; it never stops the processor. Past the lock another worker may
  // take the run over at any moment, so this attempt stops now and writes nothing more (the fences would
  // refuse it anyway); the next attempt continues from the journal.
  worker.on("lockRenewalFailed", (jobIds) => {
    for (const jobId of jobIds) {
      logger.warn("Run job lock lost", { jobId });
      attempts.get(jobId)?.stop("interrupt", "lock_lost");
    }
  });
  let closed: Promise<void> | null = null;
  const close = (graceMs: number | null) =>
    (closed ??= (async () => {
      const closing = worker.close();
      const timer = graceMs === null ? null : setTimeout(() => {
        for (const guard of attempts.values()) guard.stop("interrupt", "drain");
      }, graceMs);
      try {
        await closing;
      } finally {
        if (timer) clearTimeout(timer);
        await heartbeat.stop();
      }
    })());
  return {
    workerId: heartbeat.workerId,
    drain: (graceMs) => close(graceMs),
    close: () => close(null),
  };
}
