import type { Pool } from "pg";
import type { RunPartial, TerminalRunStatus, ThreadStatus } from "@runline/core";
import { withTransaction, type Dispatch, type RunsRepo, type ThreadsRepo } from "@runline/db";
import type { RunDispatcher } from "./run-dispatcher";

export interface RunOutcome {
  status: TerminalRunStatus;
  error?: { error: string; message: string } | null;
  partial?: RunPartial | null;
  /** The graph paused at a human-in-the-loop interrupt (the thread becomes `interrupted`). */
  hitlInterrupt?: boolean;
  /** Finish only a run no worker has started (cancel of a queued run): a started run is the worker's to finish. */
  onlyIfPending?: boolean;
}

/** What the terminal journal event says about a run. */
export interface RunEndEvent {
  run_id: string;
  status: TerminalRunStatus;
  error?: { error: string; message: string } | null;
  partial?: RunPartial | null;
}

export interface RunEndSink {
  end(runId: string, data: RunEndEvent): Promise<unknown>;
}

/**
 * Ends a run: status (compare-and-set), thread status, the journal's terminal event, then the thread's
 * next run. Returns false when the run was already terminal (someone else finished it first).
 */
export class RunFinisher {
  constructor(
    private readonly pool: Pool,
    private readonly threads: ThreadsRepo,
    private readonly runs: RunsRepo,
    private readonly dispatcher: RunDispatcher,
    private readonly journal: RunEndSink,
  ) {}

  async finish(runId: string, threadId: string, outcome: RunOutcome): Promise<boolean> {
    const committed = await this.commit(runId, threadId, outcome);
    if (!committed) return false;
    await this.announce(runId, threadId, outcome, committed.next);
    return true;
  }

  /**
   * The Postgres half: the run's status (compare-and-set), the thread's status, and the claim of the thread's
   * next run, in one transaction. Null when the run was already terminal. Safe to retry.
   */
  async commit(runId: string, threadId: string, outcome: RunOutcome): Promise<{ next: Dispatch | null } | null> {
    return withTransaction(this.pool, async (tx) => {
      await this.threads.lock(tx, threadId);
      const changed = await this.runs.finish(tx, runId, outcome.status, {
        error: outcome.error,
        partial: outcome.partial,
        onlyIfPending: outcome.onlyIfPending,
      });
      if (!changed) return null;
      const stillActive = (await this.runs.listActive(tx, threadId)).length > 0;
      await this.threads.setStatus(tx, threadId, threadStatusAfter(outcome, stillActive));
      return { next: stillActive ? await this.dispatcher.claim(tx, threadId) : null };
    });
  }

  /** The Redis half, after `commit`: the journal's terminal event, then the thread's next run on the queue. */
  async announce(runId: string, threadId: string, outcome: RunOutcome, next: Dispatch | null): Promise<void> {
    // The status is committed before the terminal event, so a client that saw `end` reads the final run.
    await this.journal.end(runId, { run_id: runId, status: outcome.status, error: outcome.error ?? null, partial: outcome.partial ?? null });
    await this.dispatcher.enqueue(next, threadId);
  }
}

function threadStatusAfter(outcome: RunOutcome, stillActive: boolean): ThreadStatus {
  if (stillActive) return "busy";
  if (outcome.status === "error") return "error";
  if (outcome.hitlInterrupt) return "interrupted";
  return "idle";
}
