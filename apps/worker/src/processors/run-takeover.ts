import type { RunRecord } from "@runline/core";
import type { AttemptTelemetry } from "@runline/observability";
import { collectorFromJournal, savePartialOutput, type RunOutcome } from "@runline/engine";
import { appendFinalValues, executeAttempt } from "./run-attempt";
import type { RunProcessorDeps } from "./run-context";

/**
 * A worker died while running this run and BullMQ handed the job here. Every token it streamed is in the
 * journal. With a cancel recorded, the cancel is finished from those tokens without calling the model again.
 * Otherwise the dead attempt's partial is kept as a branch, the head goes back to where the run started, and the
 * run starts over (subscribers see a new `metadata` event with the next attempt number).
 */
export async function takeOverRun(deps: RunProcessorDeps, run: RunRecord, signal: AbortSignal, telemetry?: AttemptTelemetry): Promise<RunOutcome> {
  const graph = await deps.registry.get(run.graph_id);
  const collector = await collectorFromJournal(deps.readJournal(run.run_id), run.attempt - 1);
  const startCheckpointId = run.start_checkpoint_id;
  const cancelled = Boolean(run.cancel_requested_at);
  const { partial, values } = await savePartialOutput({
    graph,
    checkpointer: deps.checkpointer,
    run,
    collector,
    action: cancelled ? (run.cancel_action ?? "interrupt") : "rollback",
    reason: "worker_lost",
    startCheckpointId,
  });
  if (cancelled) {
    await appendFinalValues(deps, graph, run, values);
    return { status: "interrupted", partial };
  }
  await deps.journal.append(run.run_id, "metadata", {
    run_id: run.run_id,
    thread_id: run.thread_id,
    attempt: run.attempt,
    restarted: true,
    previous_attempt_partial: partial,
  });
  return executeAttempt(deps, run, signal, partial.head_checkpoint_id ?? startCheckpointId, telemetry);
}
