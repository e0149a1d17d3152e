import { isTerminalRunStatus, NotFoundError, threadKey, type CancelAction, type RunRecord } from "@runline/core";
import type { RunsRepo } from "@runline/db";
import { noPartial, type RunEndEvent, type RunLifecycle } from "@runline/engine";
import { parseEntryData, type JournalHub } from "@runline/journal";
import { publishCancel, type RunQueue } from "@runline/queue";
import type Redis from "ioredis";

export interface CancelServiceDeps {
  runs: RunsRepo;
  lifecycle: RunLifecycle;
  queue: RunQueue;
  redis: Redis;
  hub: JournalHub;
  redisPrefix: string;
  /** Longest a `wait=1` cancel waits for the worker to save the partial. @defaultValue 30000 */
  waitTimeoutMs?: number;
  /**
   * While waiting for a run's end, how often its status is re-read from Postgres, in case the `end` was
   * published while the pub/sub connection was down. @defaultValue 1000
   */
  endPollMs?: number;
  /** Longest a thread delete waits for its running runs to stop before finishing them itself. @defaultValue 5000 */
  deleteWaitMs?: number;
  /** Counts each cancel by action and outcome, and times `wait=1` cancels. @defaultValue records nothing */
  metrics?: CancelMetrics;
}

/** The cancel metrics hook (see `@runline/observability`'s `cancelMetrics`). */
export interface CancelMetrics {
  /** One cancel request ended; `waitedMs` is set for a `wait=1` cancel that saw the partial committed. */
  cancelRecorded(action: CancelAction, outcome: CancelOutcome, waitedMs: number | null): void;
}

/** How a cancel request ended. */
export type CancelOutcome =
  /** The run stopped and its partial output (if any) is committed. */
  | "cancelled"
  /** Recorded and sent to the worker; not waited for (`wait=0`), or the wait timed out. */
  | "requested"
  /** The run had already ended; nothing changed. */
  | "already_finished";

/** A run to cancel: one read already, or a request's ids (scoped to its tenant's thread, maybe missing). */
export type CancelTarget = RunRecord | { run_id: string; thread_id: string; tenant_id: string };

const isRunRecord = (run: CancelTarget): run is RunRecord => "status" in run;

export interface CancelResult {
  outcome: CancelOutcome;
  run: RunRecord;
}

/**
 * Cancels runs: records the intent in Postgres first (so a worker that claims the run later sees it), then tells
 * every worker over pub/sub. A run no worker has started is finished right here; a running one is stopped by
 * its worker, which saves the partial output before the run's terminal event.
 */
/**
 * Longest a state read waits for a stop that may be on its way (see `settle`); it ends early when one starts, so
 * only a read next to a run nobody stops pays it in full. A proxy between the browser and Runline passes the
 * close on after it forwarded the read; on a loaded machine (a CI run: the browser test behind the example's dev
 * proxy, 3 busy cores of load) 100 ms was seen to be too short.
 */
const DISCONNECT_GRACE_MS = 250;

export class CancelService {
  /** Cancels of this process still being recorded, by thread (see `settle`). */
  private readonly recording = new Map<string, Set<Promise<unknown>>>();
  /** State reads waiting for a disconnect's cancel to start, by thread (see `settle`). */
  private readonly awaitingStop = new Map<string, Set<() => void>>();

  constructor(private readonly deps: CancelServiceDeps) {}

  async cancel(tenantId: string, threadId: string, runId: string, options: { wait: boolean; action: CancelAction }): Promise<CancelResult> {
    const requestedAt = performance.now();
    // Not read first: the cancel's record is scoped to the tenant's thread, and only a refused one reads the run.
    return this.cancelRun({ run_id: runId, thread_id: threadKey(tenantId, threadId), tenant_id: tenantId }, options, requestedAt);
  }

  /** `POST /runs/cancel`: every matching active run of the tenant, without waiting. */
  async cancelMany(tenantId: string, filter: { threadId?: string; runIds?: string[]; status?: "pending" | "running" | "all" }, action: CancelAction): Promise<number> {
    const threadId = filter.threadId === undefined ? undefined : threadKey(tenantId, filter.threadId);
    const runs = await this.deps.runs.listActiveForTenant(tenantId, { ...filter, threadId });
    for (const run of runs) await this.cancelRun(run, { wait: false, action });
    return runs.length;
  }

  /**
   * Stops a run whose thread is being deleted: a cancel, waited for; if the worker does not answer in time the
   * run is finished here anyway. Its attempt can write nothing more after that (the fences refuse it), so a
   * thread re-created under the same id never inherits checkpoints from the old one.
   */
  async stopForDelete(run: RunRecord): Promise<void> {
    const result = await this.cancelRun(run, { wait: true, action: "interrupt", timeoutMs: this.deps.deleteWaitMs ?? 5000 });
    if (result.outcome !== "requested") return;
    const current = await this.deps.runs.getById(run.run_id);
    if (current && !isTerminalRunStatus(current.status)) {
      await this.deps.lifecycle.forceFinish(current, { status: "interrupted", partial: noPartial("interrupt"), error: { error: "ThreadDeleted", message: "thread deleted before the run stopped" } });
    }
  }

  /**
   * Cancels one run (see the class); `requestedAt` (`performance.now()`) starts the cancel latency clock. A
   * {@link CancelTarget} without a status is a request's: the run may be missing or foreign (404).
   */
  async cancelRun(run: CancelTarget, options: { wait: boolean; action: CancelAction; timeoutMs?: number }, requestedAt = performance.now()): Promise<CancelResult> {
    // Tracked from the first synchronous step: a disconnect's cancel starts in the socket's close handler, and
    // a state read handled right after it must find it here (see `settle`).
    const stopping = this.stopRun(run, options);
    const pending = this.recording.get(run.thread_id) ?? new Set();
    this.recording.set(run.thread_id, pending);
    pending.add(stopping);
    for (const wake of this.awaitingStop.get(run.thread_id) ?? []) wake();
    const forget = () => {
      pending.delete(stopping);
      if (!pending.size && this.recording.get(run.thread_id) === pending) this.recording.delete(run.thread_id);
    };
    stopping.then(forget, forget);
    const result = await stopping;
    const waitedMs = options.wait && result.outcome === "cancelled" ? performance.now() - requestedAt : null;
    this.deps.metrics?.cancelRecorded(options.action, result.outcome, waitedMs);
    return result;
  }

  private async stopRun(run: CancelTarget, { wait, action, timeoutMs }: { wait: boolean; action: CancelAction; timeoutMs?: number }): Promise<CancelResult> {
    const { runs, lifecycle, queue, redis, redisPrefix } = this.deps;
    if (isRunRecord(run) && isTerminalRunStatus(run.status)) return { outcome: "already_finished", run: await this.readRefused(run) };
    const scope = isRunRecord(run) ? undefined : { tenantId: run.tenant_id, threadId: run.thread_id };
    // Recorded first, before anything that waits on pub/sub (the listen below waits for a dropped subscriber
    // connection to come back): the cancel takes effect through the worker's poll even then.
    const recorded = await runs.requestCancel(run.run_id, action, undefined, scope);
    if (!recorded) return { outcome: "already_finished", run: await this.readRefused(run) };
    // Listen for the terminal event before anything can produce it, so a fast worker cannot be missed.
    const ended = wait ? await this.listenForEnd(run.run_id, timeoutMs) : null;
    try {
      await publishCancel(redis, redisPrefix, { runId: run.run_id, action });
      // A run no worker has started is finished here (compare-and-set on pending: if a worker claims it first,
      // the worker sees the recorded cancel and stops before its first token). A running one is the worker's.
      const finishedHere = recorded.status === "pending" ? await lifecycle.finishQueued(recorded, { status: "interrupted", partial: noPartial(action) }) : null;
      if (finishedHere) await queue.removeWaiting(run.run_id).catch(() => false);
      // (A temporary run's row is gone with its thread by now: answer with the row the finish returned.)
      if (!ended) return { outcome: "requested", run: finishedHere ?? recorded };
      if (finishedHere) return { outcome: "cancelled", run: finishedHere };
      // The run may have ended between the record and the listen (by itself, or a fast worker): read it once.
      let latest = await runs.getById(run.run_id);
      if (!latest || !isTerminalRunStatus(latest.status)) {
        const seen = await ended.wait();
        if (!seen) return { outcome: "requested", run: latest ?? recorded };
        // The `end` carries what the finish changed: no read back on the path to the answer.
        latest = (seen.end && finishedFrom(latest ?? recorded, seen.end)) ?? (await runs.getById(run.run_id));
      }
      if (!latest) return { outcome: "already_finished", run: recorded };
      return { outcome: latest.status === "interrupted" ? "cancelled" : "already_finished", run: latest };
    } finally {
      ended?.stop();
    }
  }

  /** The run a cancel found already terminal, read again; a request's target that is missing or foreign is a 404. */
  private async readRefused(run: CancelTarget): Promise<RunRecord> {
    if (isRunRecord(run)) return (await this.deps.runs.getById(run.run_id)) ?? run;
    const found = await this.deps.runs.get(run.tenant_id, run.thread_id, run.run_id);
    if (!found) throw new NotFoundError("RUN_NOT_FOUND", `Run ${run.run_id} not found`);
    return found;
  }

  /**
   * Waits (at most `timeoutMs`) until the thread's cancels in progress have saved their partial output
   * (`threadId` is the storage key, as on the runs). A client that pressed stop reads the thread right away
   * (`useStream` re-reads history as it closes the stream); without this wait it would get the state from before
   * the partial was saved.
   */
  async settle(threadId: string, timeoutMs = 5000): Promise<void> {
    // A browser's stop is a closed connection (or, for resumable streams, a cancel request it does not wait
    // for). Its cancel starts in the close handler, which has run by the time this read got here (the FIN
    // arrived first, and this read awaited the database since): wait until those cancels are recorded.
    let active = await this.deps.runs.listActiveNow(threadId);
    if (!this.recording.has(threadId) && active.some((run) => run.status === "running" && !run.cancel_requested_at && run.kwargs.on_disconnect === "cancel")) {
      // The read can still overtake the close it follows (a proxy in between, another connection): give that
      // stop a moment to start. The wait ends the moment a cancel of this thread starts, and applies only to
      // a run a disconnect can cancel at all.
      await this.untilStopStarts(threadId, DISCONNECT_GRACE_MS);
      active = await this.deps.runs.listActiveNow(threadId);
    }
    const recording = this.recording.get(threadId);
    if (recording) {
      await Promise.allSettled([...recording]);
      active = await this.deps.runs.listActiveNow(threadId);
    }
    const cancelling = active.filter((run) => run.cancel_requested_at);
    await Promise.all(
      cancelling.map(async (run) => {
        const ended = await this.listenForEnd(run.run_id, timeoutMs);
        try {
          const current = await this.deps.runs.getById(run.run_id);
          if (current && !isTerminalRunStatus(current.status)) await ended.wait();
        } finally {
          ended.stop();
        }
      }),
    );
  }

  private untilStopStarts(threadId: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiters = this.awaitingStop.get(threadId) ?? new Set();
      this.awaitingStop.set(threadId, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (!waiters.size && this.awaitingStop.get(threadId) === waiters) this.awaitingStop.delete(threadId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      waiters.add(done);
    });
  }

  /**
   * Resolves at the run's end (with its `end` event's data when that is how the end was seen), null after the
   * wait limit. The journal's `end` is the fast path; pub/sub drops what is published while its connection is
   * down, so the run's status is re-read from Postgres on every reconnect and every `endPollMs` too (the status
   * is committed before `end` is written).
   */
  private async listenForEnd(runId: string, timeoutMs = this.deps.waitTimeoutMs ?? 30_000): Promise<{ wait(): Promise<EndSeen | null>; stop(): void }> {
    let resolve!: (seen: EndSeen | null) => void;
    const ended = new Promise<EndSeen | null>((r) => (resolve = r));
    const recheck = () => {
      this.deps.runs.getById(runId).then((run) => {
        if (!run || isTerminalRunStatus(run.status)) resolve({ end: null });
      }, () => undefined);
    };
    const stop = await this.deps.hub.listen(
      runId,
      (entry) => {
        if (entry.event !== "end") return;
        let end: RunEndEvent | null = null;
        try {
          end = parseEntryData<RunEndEvent>(entry);
        } catch {
          /* read back instead */
        }
        resolve({ end });
      },
      { onResync: recheck },
    );
    const timer = setTimeout(() => resolve(null), timeoutMs);
    const poll = setInterval(recheck, this.deps.endPollMs ?? 1000);
    return {
      wait: () => ended,
      stop: () => {
        clearTimeout(timer);
        clearInterval(poll);
        stop();
      },
    };
  }
}

/** How a wait saw the run end: its `end` event's data, or null when a read of the run showed it terminal. */
interface EndSeen {
  end: RunEndEvent | null;
}

/**
 * The finished run from the row read before it ended and its `end` event: the event carries every field a finish
 * changes. Null for an `end` without them (written by an older version), which the caller reads back instead.
 */
function finishedFrom(before: RunRecord, end: RunEndEvent): RunRecord | null {
  if (end.run_id !== before.run_id || end.updated_at === undefined || end.attempt === undefined) return null;
  return {
    ...before,
    status: end.status,
    error: end.error ?? null,
    partial: end.partial ?? null,
    attempt: end.attempt,
    started_at: end.started_at ?? null,
    finished_at: end.finished_at ?? null,
    updated_at: end.updated_at,
  };
}
