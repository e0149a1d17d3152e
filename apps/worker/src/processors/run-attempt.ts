import type { RunRecord } from "@runline/core";
import {
  executeRun,
  isRunStopped,
  noPartial,
  PartialCollector,
  RunSettledHandler,
  savePartialOutput,
  toWire,
  type RunnableGraph,
  type RunOutcome,
} from "@runline/engine";
import { CHAT_MODEL_CONTEXT_KEY } from "@runline/graphs";
import { NOOP_ATTEMPT, type AttemptTelemetry } from "@runline/observability";
import type { RunProcessorDeps } from "./run-context";

const root = (threadId: string) => ({ configurable: { thread_id: threadId, checkpoint_ns: "" } });

/** Appends the thread's values to the journal: the final `values` event subscribers end with after a stop. */
export async function appendFinalValues(deps: RunProcessorDeps, graph: RunnableGraph, run: RunRecord, values: unknown | null): Promise<void> {
  const current = values ?? (await graph.getState(root(run.thread_id)))?.values ?? {};
  await deps.journal.append(run.run_id, "values", toWire(current));
}

/**
 * Runs the graph once. On a cancel or the run limit it waits for LangGraph's writes to settle, saves the partial
 * output, and reports the run `interrupted`/`timeout`; any other failure is an `error` event and outcome.
 */
export async function executeAttempt(
  deps: RunProcessorDeps,
  run: RunRecord,
  signal: AbortSignal,
  startCheckpointId: string | null,
  telemetry: AttemptTelemetry = NOOP_ATTEMPT,
): Promise<RunOutcome> {
  const graph = await deps.registry.get(run.graph_id);
  if (isRunStopped(signal.reason)) {
    // Cancelled before the first step: the model is never called and nothing is written.
    await appendFinalValues(deps, graph, run, null);
    return { status: signal.reason.cause === "timeout" ? "timeout" : "interrupted", partial: noPartial(signal.reason.action) };
  }
  const collector = new PartialCollector();
  const settled = new RunSettledHandler(run.run_id);
  const sink = {
    append: (event: string, data: unknown) => {
      telemetry.appended(event);
      return deps.journal.append(run.run_id, event, data);
    },
  };
  try {
    const result = await executeRun({
      graph,
      run,
      sink,
      signal,
      collector,
      context: { [CHAT_MODEL_CONTEXT_KEY]: deps.chatModels },
      callbacks: [settled],
    });
    await deps.journal.flush(run.run_id);
    return { status: "success", hitlInterrupt: result.interrupted };
  } catch (err) {
    const reason = signal.aborted ? signal.reason : undefined;
    if (isRunStopped(reason)) {
      await settled.wait(deps.settleTimeoutMs ?? 5000);
      await deps.journal.flush(run.run_id).catch(() => undefined);
      const { partial, values } = await savePartialOutput({
        graph,
        checkpointer: deps.checkpointer,
        run,
        collector,
        action: reason.action,
        reason: reason.cause,
        startCheckpointId,
      });
      await appendFinalValues(deps, graph, run, values);
      const error = reason.cause === "timeout" ? { error: reason.name, message: reason.message } : null;
      return { status: reason.cause === "timeout" ? "timeout" : "interrupted", partial, error };
    }
    const error = { error: (err as Error)?.name ?? "Error", message: (err as Error)?.message ?? String(err) };
    await deps.journal.append(run.run_id, "error", error).catch(() => undefined);
    return { status: "error", error };
  }
}
