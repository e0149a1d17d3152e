/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as `signal` aborts.
 *
 * Unlike `timers/promises` (which wraps the reason in its own AbortError), this rejects with
 * `signal.reason` itself, which is what LangGraph's `graph.stream` throws too, so callers see one error.
 * The timer is cleared on abort and the listener removed on resolve: nothing is left behind either way.
 * `ms = 0` still goes through a timer on purpose: yielding to the event loop lets an abort scheduled by a
 * timer or an I/O callback land between tokens, which a chain of resolved promises would never allow.
 */
export function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The signal's reason, or a standard AbortError for the rare signal aborted without one. */
export function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException("The operation was aborted.", "AbortError");
}
