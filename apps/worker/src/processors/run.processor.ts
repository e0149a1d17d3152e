import { UnrecoverableError } from "bullmq";
import type { RunRecord } from "@runline/core";
import type { RunsRepo } from "@runline/db";
import { RunStoppedError, type RunOutcome } from "@runline/engine";
import { NOOP_RUN_TELEMETRY, type AttemptTelemetry } from "@runline/observability";
import { RunJobPayload, type RunJob } from "@runline/queue";
import { executeAttempt } from "./run-attempt";
import type { RunProcessorDeps } from "./run-context";
import { takeOverRun } from "./run-takeover";

export type { RunProcessorDeps } from "./run-context";

/** What the job returns to BullMQ (kept small: it is stored in Redis). */
export interface RunJobResult {
  runId: string;
  status: string;
}

/** Builds the BullMQ processor that takes one run from `pending` to a terminal status. */
export function createRunProcessor(deps: RunProcessorDeps) {
  const telemetry = deps.telemetry ?? NOOP_RUN_TELEMETRY;
  // Three declared parameters on purpose: BullMQ passes the abort signal only when processor.length >= 3.
  return async function processRun(job: RunJob, _token: string | undefined, jobSignal?: AbortSignal): Promise<RunJobResult> {
    const parsed = RunJobPayload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid run job payload: ${parsed.error.message}`);
    const { runId } = parsed.data;
    const controller = new AbortController();
    // Listen before claiming: a cancel published between the claim and the first token is then never missed,
    // and one recorded before the claim is in the claimed row.
    const unregister = deps.cancels.register(runId, (action) => controller.abort(new RunStoppedError(action, "cancel")));
    const onJobAbort = () => controller.abort(new RunStoppedError("interrupt", "cancel"));
    jobSignal?.addEventListener("abort", onJobAbort, { once: true });
    const timer = deps.runTimeoutMs > 0 ? setTimeout(() => controller.abort(new RunStoppedError("interrupt", "timeout")), deps.runTimeoutMs) : null;
    let attempt: AttemptTelemetry | null = null;
    try {
      const claimed = await claimRun(deps.runs, runId);
      if (!claimed) return { runId, status: "skipped" };
      const { run, takeover } = claimed;
      attempt = telemetry.start(run, { takeover, jobId: job.id });
      if (run.cancel_requested_at) controller.abort(new RunStoppedError(run.cancel_action ?? "interrupt", "cancel"));
      const outcome = await runClaimed(deps, run, takeover, controller.signal, attempt);
      // A run left `running` with no job would block its thread forever: insist on recording the end.
      const committed = await withRetries(() => deps.finisher.commit(run.run_id, run.thread_id, outcome));
      if (committed) await deps.finisher.announce(run.run_id, run.thread_id, outcome, committed.next);
      attempt.finished(outcome);
      if (run.kwargs.temporary) await deps.deleteThread(run.thread_id);
      return { runId, status: outcome.status };
    } catch (err) {
      attempt?.failed(err);
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      jobSignal?.removeEventListener("abort", onJobAbort);
      unregister();
    }
  };
}

async function runClaimed(deps: RunProcessorDeps, run: RunRecord, takeover: boolean, signal: AbortSignal, telemetry: AttemptTelemetry): Promise<RunOutcome> {
  // A takeover with nothing recorded means the dead attempt never reached the graph: start as if new.
  if (takeover && run.start_checkpoint_recorded) return takeOverRun(deps, run, signal, telemetry);
  void deps.journal.append(run.run_id, "metadata", { run_id: run.run_id, thread_id: run.thread_id, attempt: run.attempt });
  return executeAttempt(deps, run, signal, run.start_checkpoint_id, telemetry);
}

/** pending → running; a run already running belongs to a dead worker whose job came back (stalled). */
async function claimRun(runs: RunsRepo, runId: string): Promise<{ run: RunRecord; takeover: boolean } | null> {
  const started = await runs.markRunning(runId);
  if (started) return { run: started, takeover: false };
  const retried = await runs.markRetried(runId);
  return retried ? { run: retried, takeover: true } : null;
}

/** Retries a short operation through a brief Postgres or Redis blip (100 ms, 400 ms, 1.6 s apart). */
async function withRetries<T>(operation: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * 4 ** (attempt - 1)));
    }
  }
}
