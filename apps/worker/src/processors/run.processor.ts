import { DelayedError, UnrecoverableError } from "bullmq";
import { publicThreadId } from "@runline/core";
import { NOOP_RUN_TELEMETRY, type AttemptTelemetry } from "@runline/observability";
import { RunJobPayload, type RunJob } from "@runline/queue";
import { AttemptGuard } from "./attempt-guard";
import { executeAttempt, isFenced, type AttemptEnd, type AttemptScope } from "./run-attempt";
import type { RunProcessorDeps } from "./run-context";
import { takeOverRun } from "./run-takeover";

export type { RunProcessorDeps } from "./run-context";

/** What the job returns to BullMQ (kept small: it is stored in Redis). */
export interface RunJobResult {
  runId: string;
  status: string;
}

/** The running attempts of this process, so the worker can stop them (lost lock, drain). */
export type ActiveAttempts = Map<string, AttemptGuard>;

/**
 * Builds the BullMQ processor that takes one run attempt from its claim to a terminal status — or, when the
 * attempt is stopped for a reason that is not the run's end (drain, lost lock, superseded), hands it on or
 * walks away without another write.
 */
export function createRunProcessor(deps: RunProcessorDeps, active: ActiveAttempts = new Map()) {
  const telemetry = deps.telemetry ?? NOOP_RUN_TELEMETRY;
  // Three declared parameters on purpose: BullMQ passes the abort signal only when processor.length >= 3.
  return async function processRun(job: RunJob, token: string | undefined, jobSignal?: AbortSignal): Promise<RunJobResult> {
    const parsed = RunJobPayload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid run job payload: ${parsed.error.message}`);
    const { runId } = parsed.data;
    if (active.has(runId)) {
      // An earlier attempt of this run is still winding down in this process (it lost its lock; the fences
      // and its own lock check stop it within half a lock). BullMQ tracks locks by job id, so two processings
      // of one job in one process would disturb each other's locks: come back in a moment instead.
      await job.moveToDelayed(Date.now() + 500, token);
      throw new DelayedError();
    }
    const guard = new AttemptGuard(runId, deps.control, jobSignal);
    active.set(runId, guard);
    let attempt: AttemptTelemetry | null = null;
    try {
      const claimed = await deps.lifecycle.startAttempt(runId);
      if (!claimed) return { runId, status: "skipped" };
      const { run, takeover } = claimed;
      guard.own(run.attempt, deps.runTimeoutMs);
      guard.keepLock(job, token, deps.lockDurationMs);
      // Log lines name the thread as its tenant's clients do (the tenant is a field of its own).
      attempt = telemetry.start({ ...run, thread_id: publicThreadId(run.thread_id) }, { takeover, jobId: job.id });
      if (run.cancel_requested_at) guard.stop(run.cancel_action ?? "interrupt", "cancel");
      const scope: AttemptScope = {
        run,
        guard,
        telemetry: attempt,
        journal: deps.journal.forAttempt(run.run_id, run.attempt, () => guard.stop("interrupt", "superseded")),
      };
      // Own the journal before reading it (a takeover rebuilds the previous attempt's partial from it): a
      // previous attempt that is still running cannot add tokens the partial would then miss.
      const claimedJournal = await scope.journal.claim().then(() => true, (err) => (isFenced(err) ? false : Promise.reject(err)));
      if (!claimedJournal) return { runId, status: "superseded" };
      const end = await runClaimed(deps, scope, takeover);
      switch (end.kind) {
        case "finished": {
          const telemetryOfAttempt = attempt;
          const committed = await deps.lifecycle.finishAttempt(run, end.outcome, () => telemetryOfAttempt.finished(end.outcome));
          if (!committed) attempt.logger.warn("Run finish refused: a later attempt owns the run", { status: end.outcome.status });
          return { runId, status: committed ? end.outcome.status : "superseded" };
        }
        case "handoff":
          attempt.logger.info("Run handed to another worker", { reason: guard.reason?.stopCause });
          if (!(await deps.lifecycle.handOff(run))) return { runId, status: "superseded" };
          // Back to the queue now, not after the stalled check: the next attempt keeps this one's partial.
          await job.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        case "abandoned":
          attempt.logger.warn("Run attempt abandoned", { reason: guard.reason?.stopCause });
          return { runId, status: "abandoned" };
      }
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      attempt?.failed(err);
      throw err;
    } finally {
      if (active.get(runId) === guard) active.delete(runId);
      guard.dispose();
    }
  };
}

async function runClaimed(deps: RunProcessorDeps, scope: AttemptScope, takeover: boolean): Promise<AttemptEnd> {
  const { run } = scope;
  try {
    // A takeover with nothing recorded means the dead attempt never reached the graph: start as if new.
    if (takeover && run.start_checkpoint_recorded) return await takeOverRun(deps, scope);
    void scope.journal.append("metadata", { run_id: run.run_id, thread_id: publicThreadId(run.thread_id), attempt: run.attempt }).catch(() => undefined);
    return await executeAttempt(deps, scope, run.start_checkpoint_id);
  } catch (err) {
    // A fence refused a write on the way (partial save, final values): a later attempt owns the run.
    if (isFenced(err)) return { kind: "abandoned" };
    // Anything else (the graph is gone from the config, the journal unreadable, Postgres down past the retry
    // window) ends the run `error`: a failed job would be put back by the reconciler and fail the same way.
    const error = { error: (err as Error)?.name ?? "Error", message: (err as Error)?.message ?? String(err) };
    await scope.journal.append("error", error).catch(() => undefined);
    return { kind: "finished", outcome: { status: "error", error } };
  }
}

