import type { Pool } from "pg";
import { withTransaction, type RunsRepo, type ThreadsRepo } from "@runline/db";
import type { RunQueue } from "@runline/queue";

/**
 * Keeps "one run in flight per thread": a run goes to the queue only when no other run of its thread is
 * running or already queued. Both the API (new run) and the worker (run finished) call `dispatchNext`;
 * the thread row lock makes the check-and-claim atomic across processes.
 */
export class RunDispatcher {
  constructor(
    private readonly pool: Pool,
    private readonly threads: ThreadsRepo,
    private readonly runs: RunsRepo,
    private readonly queue: RunQueue,
  ) {}

  async dispatchNext(threadId: string): Promise<string | null> {
    const runId = await withTransaction(this.pool, async (tx) => {
      await this.threads.lock(tx, threadId);
      return this.runs.claimNextForDispatch(tx, threadId);
    });
    if (!runId) return null;
    try {
      await this.queue.enqueue({ runId, threadId });
    } catch (err) {
      await this.runs.undoDispatch(runId);
      throw err;
    }
    return runId;
  }
}
