import { publicThreadId } from "@runline/core";
import { collectorFromJournal, savePartialOutput } from "@runline/engine";
import { appendFinalValues, asAttempt, executeAttempt, type AttemptEnd, type AttemptScope } from "./run-attempt";
import type { RunProcessorDeps } from "./run-context";

/**
 * The job came back to a worker while the run was `running`: its previous attempt's worker died, was paused
 * past its lock, lost its lock, or handed the run on while draining. Every token that attempt streamed is in
 * the journal (and the fences keep it from writing more). With a cancel recorded, the cancel is finished from
 * those tokens without calling the model again. Past the attempt limit the run ends `error`, its partial kept.
 * Otherwise the previous attempt's partial is kept as a branch, the head goes back to where the run started,
 * and the run starts over (subscribers see a new `metadata` event with the next attempt number).
 */
export async function takeOverRun(deps: RunProcessorDeps, scope: AttemptScope): Promise<AttemptEnd> {
  const { run } = scope;
  const graph = await deps.registry.get(run.graph_id);
  const collector = await collectorFromJournal(deps.readJournal(run.run_id), "latest");
  // A cancel that arrived after the claim row was read counts too: the text the user saw stays on the main line.
  const stop = scope.guard.reason;
  const cancelled = Boolean(run.cancel_requested_at) || stop?.stopCause === "cancel";
  // Hand-offs (drains on deploy) are not losses: only attempts whose worker died or lost the run count.
  const lost = run.attempt - 1 - run.handoffs;
  const exhausted = lost >= deps.maxAttempts;
  const keepOnMainLine = cancelled || exhausted;
  const { partial, values } = await asAttempt(scope, () =>
    savePartialOutput({
      graph,
      checkpointer: deps.checkpointer,
      run,
      collector,
      action: keepOnMainLine ? (run.cancel_action ?? stop?.action ?? "interrupt") : "rollback",
      reason: "worker_lost",
      startCheckpointId: run.start_checkpoint_id,
    }),
  );
  if (keepOnMainLine) {
    // No `metadata` for this attempt: it only closes the run. A next attempt finds the partial already saved
    // (the head's `next` no longer lists the node), so re-reading the same tokens saves nothing twice.
    await appendFinalValues(scope, graph, values);
    if (cancelled) return { kind: "finished", outcome: { status: "interrupted", partial } };
    const message = `run lost its worker ${lost} times; its partial output is kept`;
    await scope.journal.append("error", { error: "WorkerLost", message });
    return { kind: "finished", outcome: { status: "error", partial, error: { error: "WorkerLost", message } } };
  }
  await scope.journal.append("metadata", {
    run_id: run.run_id,
    thread_id: publicThreadId(run.thread_id),
    attempt: run.attempt,
    restarted: true,
    previous_attempt_partial: partial,
  });
  return executeAttempt(deps, scope, partial.head_checkpoint_id ?? run.start_checkpoint_id);
}
