import type { Pool } from "pg";
import { retryTransient, type RunRecord } from "@runline/core";
import type { RunsRepo } from "@runline/db";
import type { RunQueue } from "@runline/queue";
import type { RunLifecycle } from "./run-lifecycle";

/** What the reconciler repaired, by kind. */
export type ReconcileAction =
  /** A terminal run whose `end` (next run, temporary thread) was never announced: announced now. */
  | "announced"
  /** A dispatched run with no job (enqueue lost, or the job failed: Postgres was down at the claim): queued again. */
  | "requeued_pending"
  /** A running run with no live job (stalled past BullMQ's limit, failed, or lost with Redis): queued again for takeover. */
  | "requeued_running"
  /** A thread with a queued run and nothing in flight: its next run dispatched. */
  | "dispatched";

export interface RunReconcilerOptions {
  /** How often a pass runs. @defaultValue 5000 */
  intervalMs?: number;
  /** How long a run must have stayed unchanged before a missing job counts as lost. @defaultValue 5000 */
  graceMs?: number;
  /** Most runs looked at per kind and pass. @defaultValue 200 */
  batchSize?: number;
  /** Told about every repair (metrics and logs). */
  onRepaired?: (action: ReconcileAction, runOrThreadId: string) => void;
  onError?: (err: unknown) => void;
}

export interface RunReconcilerDeps {
  pool: Pool;
  runs: RunsRepo;
  queue: RunQueue;
  lifecycle: RunLifecycle;
}

/**
 * Finds runs whose next step was lost and moves them on, so that no run depends on a single in-memory step
 * happening: every run reaches a terminal status with one `end`, or runs again, within a bounded time after
 * any crash or outage, with no operator. Safe on every worker at once: a pass runs under a Postgres advisory
 * lock (one pass at a time across processes), and every repair is idempotent anyway (job id = run id; `end`
 * is written once; dispatch is a compare-and-set under the thread lock).
 */
export class RunReconciler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private readonly closed = new AbortController();
  /** Where the in-flight scan goes on at the next pass. */
  private cursor: { updatedAt: string; runId: string } | null = null;

  constructor(
    private readonly deps: RunReconcilerDeps,
    private readonly options: RunReconcilerOptions = {},
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.pass()
        .catch((err) => this.options.onError?.(err))
        .finally(() => {
          this.running = null;
          if (!this.closed.signal.aborted) this.timer = setTimeout(tick, this.options.intervalMs ?? 5000);
        });
    };
    this.timer = setTimeout(tick, this.options.intervalMs ?? 5000);
  }

  async stop(): Promise<void> {
    this.closed.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; returns what it repaired, or null when another process holds the pass. */
  async pass(): Promise<ReconcileAction[] | null> {
    const client = await this.deps.pool.connect();
    let broken: Error | undefined;
    try {
      const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtext(current_schema() || ':runline-reconcile')) AS locked`);
      if (!rows[0].locked) return null;
      try {
        return await this.repair();
      } finally {
        await client.query(`SELECT pg_advisory_unlock(hashtext(current_schema() || ':runline-reconcile'))`).catch((err) => (broken = err));
      }
    } catch (err) {
      broken = err as Error;
      throw err;
    } finally {
      // A connection that failed may still hold the session lock: destroying it releases the lock.
      client.release(broken);
    }
  }

  private async repair(): Promise<ReconcileAction[]> {
    const { runs, lifecycle } = this.deps;
    const graceMs = this.options.graceMs ?? 5000;
    const limit = this.options.batchSize ?? 200;
    const done: ReconcileAction[] = [];
    // One bad item (a poison row, a Redis error) must not stop every later repair of every later pass.
    const each = async <T>(items: T[], repair: (item: T) => Promise<[ReconcileAction, string] | null>) => {
      for (const item of items) {
        try {
          const repaired = await repair(item);
          if (repaired) {
            done.push(repaired[0]);
            this.options.onRepaired?.(...repaired);
          }
        } catch (err) {
          this.options.onError?.(err);
        }
      }
    };
    await each(await runs.listUnannounced(graceMs, limit), async (run) => {
      await lifecycle.announce(run);
      return ["announced", run.run_id];
    });
    const page = await runs.listInFlight(graceMs, limit, this.cursor);
    // Next pass goes on after this page; a short page means the end was reached, so start over.
    this.cursor = page.length === limit ? { updatedAt: page[page.length - 1].updated_at, runId: page[page.length - 1].run_id } : null;
    await each(page, (run) => this.requeueIfLost(run));
    await each(await runs.listStalledThreads(graceMs, limit), async (threadId) => {
      const runId = await retryTransient(() => lifecycle.dispatchNext(threadId), { name: "reconcile.dispatch", signal: this.closed.signal });
      return runId ? ["dispatched", threadId] : null;
    });
    return done;
  }

  /** A run that should have a job but whose job is gone or finished goes back on the queue. */
  private async requeueIfLost(run: RunRecord): Promise<[ReconcileAction, string] | null> {
    const { runs, queue } = this.deps;
    const state = await queue.jobState(run.run_id);
    if (state !== "unknown" && state !== "completed" && state !== "failed") return null;
    // Re-read after the job state: a run that finished meanwhile needs nothing.
    const current = await runs.getById(run.run_id);
    if (!current || (current.status !== "pending" && current.status !== "running")) return null;
    const delayMs = current.status === "pending" ? remainingDelayMs(current) : 0;
    if (!(await queue.requeue({ runId: run.run_id, threadId: run.thread_id }, delayMs))) return null;
    await runs.touch(run.run_id);
    return [current.status === "pending" ? "requeued_pending" : "requeued_running", run.run_id];
  }
}

function remainingDelayMs(run: { created_at: string; kwargs: { after_seconds?: number } }): number {
  const due = Date.parse(run.created_at) + (run.kwargs.after_seconds ?? 0) * 1000;
  return Math.max(0, due - Date.now());
}
