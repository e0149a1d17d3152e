import type { Pool } from "pg";
import { retryTransient, type RunPartial, type RunRecord, type RunStatus, type TerminalRunStatus, type ThreadStatus } from "@runline/core";
import { RunsRepo, ThreadsRepo, withTransaction, type Dispatch } from "@runline/db";
import type { RunDispatcher } from "./run-dispatcher";

export interface RunOutcome {
  status: TerminalRunStatus;
  error?: { error: string; message: string } | null;
  partial?: RunPartial | null;
  /** The graph paused at a human-in-the-loop interrupt (the thread becomes `interrupted`). */
  hitlInterrupt?: boolean;
}

/**
 * What the terminal journal event says about a run: its outcome, and the other fields a finish changes, so that
 * whoever waited for the `end` (a `wait=1` cancel) can answer with the finished run without reading it back.
 */
export interface RunEndEvent {
  run_id: string;
  status: TerminalRunStatus;
  error?: { error: string; message: string } | null;
  partial?: RunPartial | null;
  attempt?: number;
  started_at?: string | null;
  finished_at?: string | null;
  updated_at?: string;
}

/** The `end` event of a finished run (the row its finish committed). */
export function runEndEvent(run: RunRecord): RunEndEvent {
  return {
    run_id: run.run_id,
    status: run.status as TerminalRunStatus,
    error: run.error ?? null,
    partial: run.partial ?? null,
    attempt: run.attempt,
    started_at: run.started_at,
    finished_at: run.finished_at,
    updated_at: run.updated_at,
  };
}

export interface RunEndSink {
  /** Writes the run's one `end` event (idempotent: null when it was already written). */
  end(runId: string, data: RunEndEvent): Promise<unknown>;
}

/**
 * What a finish does once the terminal status is committed and before the run's `end` goes out (record the
 * attempt's metrics). A hook that throws does not hold the `end` back.
 */
export type OnCommitted = (finished: RunRecord) => void;

export interface RunLifecycleDeps {
  pool: Pool;
  runs: RunsRepo;
  dispatcher: RunDispatcher;
  journal: RunEndSink;
  /** Deletes a thread with its checkpoints (a stateless run's thread, once the run ended). */
  deleteThread(threadId: string): Promise<void>;
  /** Told about every retried transient failure (Runline logs them). */
  onRetry?: (info: { name: string; attempt: number; delayMs: number; error: unknown }) => void;
  /** Aborted when the process closes: retries stop. */
  signal?: AbortSignal;
  /** Longest a transition retries through a Postgres or Redis outage. @defaultValue 60_000 */
  retryForMs?: number;
}

/**
 * Every transition of a run, in one place:
 *
 * ```
 * created ─(claim, thread lock)─> pending+dispatched ─(startAttempt)─> running(1) ─(startAttempt: takeover)─> running(n)
 *    │                                   │                                  │
 *    └─ pending (waits for the thread) ──┴─(finishQueued)─> terminal <─(finishAttempt(n))─┘   then announce: `end`,
 *                                                                                             next run, temporary thread
 * ```
 *
 * Each transition is a compare-and-set in Postgres naming the state (and attempt) it moves from, so a late or
 * superseded writer changes nothing. "One run in flight per thread" is decided only by `RunDispatcher.claim`,
 * with the thread row locked, both when a run is created and when one finishes. Announcing is idempotent and
 * recorded (`end_announced_at`), so the reconciler can finish the job of a process that died half-way.
 * Transitions retry connection failures (they are safe to repeat); any other error is thrown at once.
 */
export class RunLifecycle {
  constructor(private readonly deps: RunLifecycleDeps) {}

  /**
   * pending → running(1), or running(n) → running(n+1) when the job came back because its worker died or lost
   * its lock (`takeover`). Null when the run is terminal (cancelled while queued, or already finished).
   */
  async startAttempt(runId: string): Promise<{ run: RunRecord; takeover: boolean } | null> {
    return this.retry("run.start", async () => {
      const started = await this.deps.runs.markRunning(runId);
      if (started) return { run: started, takeover: false };
      const retried = await this.deps.runs.markRetried(runId);
      return retried ? { run: retried, takeover: true } : null;
    });
  }

  /** running(attempt) → terminal, then announce; the finished run, or null when the attempt no longer owns it (fenced). */
  finishAttempt(run: RunRecord, outcome: RunOutcome, onCommitted?: OnCommitted): Promise<RunRecord | null> {
    return this.finish(run, outcome, { from: ["running"], attempt: run.attempt }, onCommitted);
  }

  /** Records that `run`'s attempt hands the run on (drain), so the next attempt does not count it as lost. */
  handOff(run: RunRecord): Promise<boolean> {
    return this.retry("run.handoff", () => this.deps.runs.recordHandoff(run.run_id, run.attempt));
  }

  /** pending → terminal (a cancel of a run no worker has started), then announce; null when a worker got it first. */
  finishQueued(run: RunRecord, outcome: RunOutcome): Promise<RunRecord | null> {
    return this.finish(run, outcome, { from: ["pending"] });
  }

  /**
   * pending | running → terminal, whoever owns it: for a thread being deleted whose run did not stop in time.
   * Fencing makes it safe: the attempt's later writes are refused once the run is terminal.
   */
  forceFinish(run: RunRecord, outcome: RunOutcome): Promise<RunRecord | null> {
    return this.finish(run, outcome, { from: ["pending", "running"] });
  }

  /**
   * After the terminal status is committed: the journal's one `end` event, the thread's next run on the queue,
   * a temporary thread deleted, and the announcement recorded. Safe to repeat (the reconciler does, for a
   * process that died half-way).
   */
  async announce(run: RunRecord, next: Dispatch | null = null): Promise<void> {
    // The status is committed before the terminal event, so a client that saw `end` reads the final run.
    await this.retry("run.announce", () => this.deps.journal.end(run.run_id, runEndEvent(run)));
    await this.retry("run.dispatch", () => this.deps.dispatcher.enqueue(next, run.thread_id));
    if (run.kwargs.temporary) await this.retry("run.delete_thread", () => this.deps.deleteThread(run.thread_id));
    else await this.retry("run.announced", () => this.deps.runs.markAnnounced(run.run_id));
  }

  /** Claims and enqueues a thread's next run when nothing is in flight on it (the reconciler). */
  dispatchNext(threadId: string): Promise<string | null> {
    return this.retry("run.dispatch", () => this.deps.dispatcher.dispatchNext(threadId));
  }

  private async finish(
    run: RunRecord,
    outcome: RunOutcome,
    cas: { from: RunStatus[]; attempt?: number },
    onCommitted?: OnCommitted,
  ): Promise<RunRecord | null> {
    const committed = await this.retry("run.finish", () => this.commit(run.run_id, run.thread_id, outcome, cas));
    if (!committed) return this.committedByLostReply(run, outcome, cas, onCommitted);
    afterCommit(committed.run, onCommitted);
    await this.announce(committed.run, committed.next);
    return committed.run;
  }

  /**
   * The compare-and-set failed. If a retry did so because the first try committed and only its reply was
   * lost, the row already holds this very outcome of this very attempt: announce it (idempotent) instead of
   * leaving the run without its `end` until the reconciler comes by.
   */
  private async committedByLostReply(run: RunRecord, outcome: RunOutcome, cas: { attempt?: number }, onCommitted?: OnCommitted): Promise<RunRecord | null> {
    if (cas.attempt === undefined) return null;
    const row = await this.retry("run.read", () => this.deps.runs.getById(run.run_id));
    if (!row || row.attempt !== cas.attempt || row.status !== outcome.status) return null;
    afterCommit(row, onCommitted);
    await this.announce(row);
    return row;
  }

  /**
   * The Postgres half: the run's status (compare-and-set), the thread's status, and the claim of the thread's
   * next run, in one transaction of two round trips (BEGIN with the thread lock and the finish, then COMMIT) when
   * no other run waits on the thread. Null when the compare-and-set failed.
   */
  private commit(runId: string, threadId: string, outcome: RunOutcome, cas: { from: RunStatus[]; attempt?: number }) {
    const { pool, dispatcher } = this.deps;
    const finish = RunsRepo.finishOnThreadStatement(runId, threadId, outcome.status, {
      error: outcome.error,
      partial: outcome.partial,
      ...cas,
      threadStatus: threadStatusWhenIdle(outcome),
    });
    return withTransaction(
      pool,
      async (tx, opened) => {
        // The lock's statement first, then the finish: its own snapshot, taken once the lock was granted.
        const finished = RunsRepo.readFinishOnThread(opened[1]!);
        if (!finished) return null;
        return { run: finished.run, next: finished.stillActive ? await dispatcher.claim(tx, threadId) : null };
      },
      `${ThreadsRepo.lockStatement(threadId)}; ${finish}`,
    );
  }

  private retry<T>(name: string, operation: () => Promise<T>): Promise<T> {
    return retryTransient(operation, { name, onRetry: this.deps.onRetry, signal: this.deps.signal, maxElapsedMs: this.deps.retryForMs });
  }
}

/** The thread's status once `outcome` ended its last active run (while another is active, the finish makes it `busy`). */
function threadStatusWhenIdle(outcome: RunOutcome): ThreadStatus {
  if (outcome.status === "error") return "error";
  if (outcome.hitlInterrupt) return "interrupted";
  return "idle";
}

/**
 * Before the `end` goes out: whoever sees `end` (a test, a dashboard) finds the run's metrics recorded. The status
 * is committed, so the `end` must follow whatever the hook does.
 */
function afterCommit(finished: RunRecord, onCommitted: OnCommitted | undefined): void {
  try {
    onCommitted?.(finished);
  } catch {
    /* the end goes out regardless */
  }
}
