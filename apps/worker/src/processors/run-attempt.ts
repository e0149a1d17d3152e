import { AttemptFencedError, runAsAttempt } from "@runline/checkpoint";
import type { RunRecord } from "@runline/core";
import {
  executeRun,
  noPartial,
  PartialCollector,
  RunSettledHandler,
  savePartialOutput,
  stopDisposition,
  toWire,
  type RunnableGraph,
  type RunOutcome,
  type RunStoppedError,
} from "@runline/engine";
import { CHAT_MODEL_CONTEXT_KEY } from "@runline/graphs";
import { JournalFencedError, type AttemptJournal } from "@runline/journal";
import { NOOP_ATTEMPT, type AttemptTelemetry } from "@runline/observability";
import type { AttemptGuard } from "./attempt-guard";
import { OutputBudget } from "./output-budget";
import type { RunProcessorDeps } from "./run-context";

/** How an attempt ended. */
export type AttemptEnd =
  /** The run reached a terminal status: commit it. */
  | { kind: "finished"; outcome: RunOutcome }
  /** Hand the run to another worker now (drain); its next attempt keeps this one's partial as a branch. */
  | { kind: "handoff" }
  /** This attempt no longer owns the run (superseded, lock lost): it wrote nothing after it learned that. */
  | { kind: "abandoned" };

/** What one attempt works with: its run, its fenced journal and its stop signal. */
export interface AttemptScope {
  run: RunRecord;
  journal: AttemptJournal;
  guard: AttemptGuard;
  telemetry?: AttemptTelemetry;
}

const root = (threadId: string) => ({ configurable: { thread_id: threadId, checkpoint_ns: "" } });

/** Appends the thread's values to the journal: the final `values` event subscribers end with after a stop. */
export async function appendFinalValues(scope: AttemptScope, graph: RunnableGraph, values: unknown | null): Promise<void> {
  // A run that streams checkpoints (every protocol v2 run) also learns the head the stop left, as LangGraph
  // reports a step: `values`, then its `checkpoints` entry. The 1.x client pairs the two to know the partial's
  // checkpoint (what `forkFrom` needs); the extra state read is paid only by those runs.
  const withCheckpoint = scope.run.kwargs.stream_mode.includes("checkpoints");
  const snapshot = values === null || withCheckpoint ? await graph.getState(root(scope.run.thread_id)) : undefined;
  await scope.journal.append("values", toWire(values ?? snapshot?.values ?? {}));
  if (withCheckpoint && snapshot?.config?.configurable?.checkpoint_id) {
    await scope.journal.append("checkpoints", {
      config: snapshot.config,
      parent_config: snapshot.parentConfig ?? null,
      metadata: snapshot.metadata ?? {},
      next: snapshot.next ?? [],
      values: toWire(snapshot.values),
    });
  }
}

/** Runs `fn` with every checkpoint write it causes fenced to this attempt. */
export function asAttempt<T>(scope: AttemptScope, fn: () => Promise<T>): Promise<T> {
  return runAsAttempt({ runId: scope.run.run_id, attempt: scope.run.attempt }, fn);
}

/** A write refused because a later attempt owns the run (journal or checkpoint fence). */
export function isFenced(err: unknown): boolean {
  return err instanceof JournalFencedError || err instanceof AttemptFencedError || (err as Error)?.name === "AttemptFencedError";
}

/**
 * Runs the graph once. On a cancel or the run limit it waits for LangGraph's writes to settle, saves the partial
 * output, and reports the run `interrupted`/`timeout`; on a drain it hands the run on; once superseded it stops
 * writing; any other failure is an `error` event and outcome.
 */
export function executeAttempt(deps: RunProcessorDeps, scope: AttemptScope, startCheckpointId: string | null): Promise<AttemptEnd> {
  const { run, journal, guard } = scope;
  const telemetry = scope.telemetry ?? NOOP_ATTEMPT;
  return asAttempt(scope, async () => {
    const graph = await deps.registry.get(run.graph_id);
    const collector = new PartialCollector();
    if (guard.reason) return endStopped(deps, scope, graph, guard.reason, collector, null, startCheckpointId);
    const settled = new RunSettledHandler(run.run_id);
    const budget = new OutputBudget(deps.runMaxOutputBytes ?? 0, journal);
    const sink = {
      push: (event: string, data: unknown) => {
        telemetry.appended(event);
        journal.push(event, data);
        // Past the limit the attempt stops the way a timeout does: LangGraph's writes settle, the partial is saved.
        if (budget.exceeded()) guard.stop("interrupt", "output_limit", `run exceeded its output limit of ${budget.maxBytes} bytes`);
      },
    };
    try {
      const result = await executeRun({
        graph,
        run,
        sink,
        signal: guard.signal,
        collector,
        context: { [CHAT_MODEL_CONTEXT_KEY]: deps.chatModels },
        callbacks: settled.rootCallbacks(),
      });
      await journal.flush();
      return { kind: "finished", outcome: { status: "success", hitlInterrupt: result.interrupted } };
    } catch (err) {
      if (isFenced(err)) guard.stop("interrupt", "superseded");
      if (guard.reason) return endStopped(deps, scope, graph, guard.reason, collector, settled, startCheckpointId);
      return endFailed(deps, scope, graph, err, collector, settled, startCheckpointId);
    }
  });
}

/**
 * A run that failed (the provider answered 429/500, sent a broken chunk, or went silent; or the graph threw): it
 * ends `error`, and what the model had streamed before the failure is saved like a cancel's partial (reason
 * `error`), so the thread keeps what subscribers saw and "please continue" can pick up from it.
 */
async function endFailed(
  deps: RunProcessorDeps,
  scope: AttemptScope,
  graph: RunnableGraph,
  err: unknown,
  collector: PartialCollector,
  settled: RunSettledHandler,
  startCheckpointId: string | null,
): Promise<AttemptEnd> {
  const error = { error: (err as Error)?.name ?? "Error", message: (err as Error)?.message ?? String(err) };
  await scope.journal.append("error", error).catch(() => undefined);
  if (collector.tokenCount() === 0) return { kind: "finished", outcome: { status: "error", error } };
  try {
    await settled.wait(deps.settleTimeoutMs ?? 5000);
    await scope.journal.flush();
    const { partial, values } = await savePartialOutput({
      graph,
      checkpointer: deps.checkpointer,
      run: scope.run,
      collector,
      action: "interrupt",
      reason: "error",
      startCheckpointId,
    });
    await appendFinalValues(scope, graph, values);
    return { kind: "finished", outcome: { status: "error", error, partial } };
  } catch (saveErr) {
    // A fenced write means a later attempt owns the run; anything else must not hide the provider's error.
    if (isFenced(saveErr)) return { kind: "abandoned" };
    return { kind: "finished", outcome: { status: "error", error } };
  }
}

async function endStopped(
  deps: RunProcessorDeps,
  scope: AttemptScope,
  graph: RunnableGraph,
  reason: RunStoppedError,
  collector: PartialCollector,
  settled: RunSettledHandler | null,
  startCheckpointId: string | null,
): Promise<AttemptEnd> {
  const disposition = stopDisposition(reason.stopCause);
  if (disposition.kind === "abandon") return { kind: "abandoned" };
  // LangGraph flushes its checkpoint writes after the abort surfaced: wait for them before writing our own.
  if (settled) await settled.wait(deps.settleTimeoutMs ?? 5000);
  // Every token streamed so far must be in the journal before anyone (a cancel here, the next attempt) reads it.
  await scope.journal.flush().catch(() => undefined);
  if (disposition.kind === "handoff") return { kind: "handoff" };
  const status = disposition.status;
  // A limit (time, output) is reported as the run's error; a cancel is not an error.
  const error = status !== "interrupted" ? { error: reason.name, message: reason.message } : null;
  if (!settled) {
    // Stopped before the first step: the model is never called and nothing is written.
    await appendFinalValues(scope, graph, null);
    return { kind: "finished", outcome: { status, partial: noPartial(reason.action), error } };
  }
  const { partial, values } = await savePartialOutput({
    graph,
    checkpointer: deps.checkpointer,
    run: scope.run,
    collector,
    action: reason.action,
    reason: reason.stopCause === "timeout" || reason.stopCause === "output_limit" ? reason.stopCause : "cancel",
    startCheckpointId,
  });
  await appendFinalValues(scope, graph, values);
  return { kind: "finished", outcome: { status, partial, error } };
}
