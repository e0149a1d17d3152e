import type { RunRecord, ThreadRecord } from "@runline/core";

/** The Run object the LangGraph SDK reads, plus Runline's own fields (attempt, error, partial, cancel). */
export function runView(run: RunRecord) {
  return {
    run_id: run.run_id,
    thread_id: run.thread_id,
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

/** The Thread object the LangGraph SDK reads. */
export function threadView(thread: ThreadRecord, values?: unknown, interrupts: Record<string, unknown[]> = {}) {
  return {
    thread_id: thread.thread_id,
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
