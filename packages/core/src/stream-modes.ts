/**
 * Stream modes a client may ask for, and the journal event each one selects. The worker always journals
 * `values`, `messages` (tuples) and `updates` and `custom`; a subscriber only sees the modes its run asked for.
 */
export const STREAM_MODE_EVENTS = {
  values: "values",
  "messages-tuple": "messages",
  updates: "updates",
  custom: "custom",
} as const;

export type StreamMode = keyof typeof STREAM_MODE_EVENTS;
export const SUPPORTED_STREAM_MODES = Object.keys(STREAM_MODE_EVENTS) as StreamMode[];

/** Journal events every subscriber sees whatever modes it asked for. */
export const ALWAYS_STREAMED_EVENTS = ["metadata", "error", "end", "gap"] as const;

/** The set of journal event names a subscriber with these stream modes receives. */
export function eventsForStreamModes(modes: readonly string[]): Set<string> {
  const events = new Set<string>(ALWAYS_STREAMED_EVENTS);
  for (const mode of modes) {
    const event = STREAM_MODE_EVENTS[mode as StreamMode];
    if (event) events.add(event);
  }
  return events;
}
