/**
 * One protocol v2 event as it goes on the wire (`@langchain/protocol` `Event`). `event_id` and `seq` are derived
 * from durable data only (see {@link seqOf}, {@link eventIdOf}), so every API process, before and after a
 * restart, numbers the same journal the same way.
 */
export interface V2Event {
  type: "event";
  event_id: string;
  seq: number;
  method: string;
  params: { namespace: string[]; timestamp: number; node?: string; data: unknown };
}

/**
 * Room for the events of one run in the thread's seq space: seq = run ordinal × span + the event's index in the
 * run (1-based). 2^24 events per run and 2^29 runs per thread stay below 2^53 (a JSON-safe integer).
 */
export const RUN_SEQ_SPAN = 2 ** 24;

/** The seq of the `index`-th (1-based) event of the run with ordinal `threadSeq` in its thread. */
export function seqOf(threadSeq: number, index: number): number {
  return threadSeq * RUN_SEQ_SPAN + Math.min(index, RUN_SEQ_SPAN - 1);
}

/**
 * What a command that starts run `threadSeq` reports as `meta.applied_through_seq`: every event before that run
 * (all earlier runs of the thread) is at or below it, every event of the run above it.
 */
export function appliedThroughSeq(threadSeq: number): number {
  return threadSeq * RUN_SEQ_SPAN;
}

/**
 * `synth:<run_id>:<journal entry id>:<k>` (k = the k-th event made from that entry). The SDK reads the run id
 * out of the `synth:` form to tell an earlier run's replayed terminal from the one it submitted.
 */
export function eventIdOf(runId: string, entryId: string, k: number): string {
  return `synth:${runId}:${entryId}:${k}`;
}

/** The method names of v2 events (also the SSE `event:` names Runline writes). */
export const V2_METHODS = ["values", "updates", "messages", "tools", "lifecycle", "input.requested", "checkpoints", "tasks", "custom"] as const;

/** The subscription channel of an event (as the SDK maps them; `custom` with a name is `custom:<name>`). */
export function channelOf(event: Pick<V2Event, "method" | "params">): string {
  if (event.method === "input.requested") return "input";
  if (event.method === "custom") {
    const name = (event.params.data as { name?: unknown } | null)?.name;
    return typeof name === "string" ? `custom:${name}` : "custom";
  }
  return event.method;
}
