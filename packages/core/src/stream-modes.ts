/**
 * Stream modes a client may ask for, and the journal event each one selects. The worker always journals
 * `values`, `messages` (tuples), `updates` and `custom`, plus the on-demand modes its run asked for; a
 * subscriber only sees the modes its run (or its join) asked for.
 */
export const STREAM_MODE_EVENTS = {
  values: "values",
  "messages-tuple": "messages",
  updates: "updates",
  custom: "custom",
  debug: "debug",
  tasks: "tasks",
  checkpoints: "checkpoints",
} as const;

/** The legacy `messages` mode: events the SSE layer derives from the journal's message tuples. */
export const LEGACY_MESSAGES_EVENTS = ["messages/metadata", "messages/partial", "messages/complete"] as const;

/** Modes the worker adds to its LangGraph stream only when a run asks for them (they cost a little per step). */
export const ON_DEMAND_STREAM_MODES = ["debug", "tasks", "checkpoints"] as const;

export type StreamMode = keyof typeof STREAM_MODE_EVENTS;
export const SUPPORTED_STREAM_MODES = [...Object.keys(STREAM_MODE_EVENTS), "messages"] as (StreamMode | "messages")[];

/** Journal events every subscriber sees whatever modes it asked for. */
export const ALWAYS_STREAMED_EVENTS = ["metadata", "error", "end", "gap"] as const;

/** The set of journal event names a subscriber with these stream modes receives. */
export function eventsForStreamModes(modes: readonly string[]): Set<string> {
  const events = new Set<string>(ALWAYS_STREAMED_EVENTS);
  for (const mode of modes) {
    const event = STREAM_MODE_EVENTS[mode as StreamMode];
    if (event) events.add(event);
    if (mode === "messages") for (const legacy of LEGACY_MESSAGES_EVENTS) events.add(legacy);
  }
  return events;
}
