import { publicThreadId, type RunRecord, type ThreadRecord } from "@runline/core";
import type { CancelResult } from "./cancel.service";

// Records name their thread by its storage key (tenant-scoped); every view answers the public id.

/** The Run object the LangGraph SDK reads, plus Runline's own fields (attempt, error, partial, cancel). */
export function runView(run: RunRecord) {
  return {
    run_id: run.run_id,
    thread_id: publicThreadId(run.thread_id),
    assistant_id: run.assistant_id,
    created_at: run.created_at,
    updated_at: run.updated_at,
    status: run.status,
    metadata: run.metadata,
    multitask_strategy: run.multitask_strategy,
    kwargs: run.kwargs,
    attempt: run.attempt,
    error: run.error,
    cancel_action: run.cancel_action,
    partial: run.partial,
    started_at: run.started_at,
    finished_at: run.finished_at,
  };
}

/**
 * A run as a list shows it: without its input and command (a list of 1000 runs must not carry 1000 inputs).
 * `GET …/runs/{run_id}`, or `include_input=1` on the list, gives the whole run.
 */
export function runSummaryView(run: RunRecord) {
  const { input: _input, command: _command, ...kwargs } = run.kwargs;
  return { ...runView(run), kwargs };
}

/** The Thread object the LangGraph SDK reads. */
export function threadView(thread: ThreadRecord, values?: unknown, interrupts: Record<string, unknown[]> = {}) {
  return {
    thread_id: publicThreadId(thread.thread_id),
    created_at: thread.created_at,
    updated_at: thread.updated_at,
    state_updated_at: thread.updated_at,
    metadata: thread.metadata,
    status: thread.status,
    config: thread.config,
    values: values ?? {},
    interrupts,
  };
}

function cancelDetail({ outcome, run }: CancelResult): string {
  if (outcome === "already_finished") return `Run already ended with status ${run.status}; nothing changed`;
  if (outcome === "requested") return "Cancel recorded; the worker saves the partial output before the run ends";
  const partial = run.partial;
  if (!partial?.token_count) return "Run stopped before the model streamed anything; nothing to save";
  return `Run stopped; ${partial.token_count} streamed tokens saved as message ${partial.message_id} in checkpoint ${partial.checkpoint_id}`;
}

/** The answer to a cancel: what happened, in words and fields, and the run as it is now. */
export function cancelView(result: CancelResult) {
  const { run } = result;
  return {
    outcome: result.outcome,
    detail: cancelDetail(result),
    run_id: run.run_id,
    thread_id: publicThreadId(run.thread_id),
    status: run.status,
    action: run.cancel_action,
    partial: run.partial,
    run: runView(run),
  };
}
