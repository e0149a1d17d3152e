import type { Pool } from "pg";
import { withTransaction, type Dispatch, type Queryable, type RunsRepo, type ThreadsRepo } from "@runline/db";
import type { RunQueue } from "@runline/queue";

/**
 * Keeps "one run in flight per thread": a run goes to the queue only when no other run of its thread is
 * running or already queued. The check-and-claim happens with the thread row locked, inside the caller's
 * transaction when it has one (run created, run finished), so it is atomic across processes; the queue write
 * follows the commit.
 */
export class RunDispatcher {
  constructor(
    private readonly pool: Pool,
    private readonly threads: ThreadsRepo,
    private readonly runs: RunsRepo,
    private readonly queue: RunQueue,
  ) {}

  /** Claims the thread's next run for the queue. Call inside a transaction that holds the thread row lock. */
  claim(tx: Queryable, threadId: string): Promise<Dispatch | null> {
    return this.runs.claimNextForDispatch(tx, threadId);
  }

  /**
   * The claim of a run inserted with `dispatched` (see `RunsRepo.insert`): the creator saw, under the thread lock,
   * that nothing else of the thread was active, so the new run is the one {@link claim} would pick.
   */
  claimedAtInsert(run: { run_id: string; kwargs: { after_seconds?: number } }): Dispatch {
    return { runId: run.run_id, delayMs: Math.round(Math.max(0, run.kwargs.after_seconds ?? 0) * 1000) };
  }

  /**
   * Puts a claimed run on the queue (after the claim committed). Idempotent (the job id is the run id). If this
   * never happens (the process died, Redis was down), the reconciler finds the dispatched run with no job.
   */
  async enqueue(dispatch: Dispatch | null, threadId: string): Promise<void> {
    if (!dispatch) return;
    await this.queue.enqueue({ runId: dispatch.runId, threadId }, dispatch.delayMs);
  }

  /** Claims and enqueues in one go, for callers without a transaction of their own (the reconciler). */
  async dispatchNext(threadId: string): Promise<string | null> {
    const dispatch = await withTransaction(this.pool, async (tx) => {
      await this.threads.lock(tx, threadId);
      return this.claim(tx, threadId);
    });
    await this.enqueue(dispatch, threadId);
    return dispatch?.runId ?? null;
  }
}
