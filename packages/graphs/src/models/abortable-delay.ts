/**
 * Delays that a signal cuts short, for a loop that waits again and again under one signal (a model's tokens):
 * one abort listener for the whole loop, not one added and removed per wait (~3 µs per token in the worker, a
 * cost an in-process run without a signal would not have). One wait at a time; `dispose` when the loop ends.
 *
 * Unlike `timers/promises` (which wraps the reason in its own AbortError), a wait rejects with `signal.reason`
 * itself, which is what LangGraph's `graph.stream` throws too, so callers see one error. The timer is cleared on
 * abort and on dispose: nothing is left behind either way. `ms = 0` still goes through a timer on purpose:
 * yielding to the event loop lets an abort scheduled by a timer or an I/O callback land between tokens, which a
 * chain of resolved promises would never allow.
 */
export class AbortablePacer {
  private waiting: { timer: NodeJS.Timeout; reject(reason: unknown): void } | null = null;
  private readonly onAbort = (): void => {
    const waiting = this.waiting;
    this.waiting = null;
    if (!waiting) return;
    clearTimeout(waiting.timer);
    waiting.reject(abortReason(this.signal));
  };

  constructor(private readonly signal?: AbortSignal) {
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts (at once if it has). */
  delay(ms: number): Promise<void> {
    if (this.signal?.aborted) return Promise.reject(abortReason(this.signal));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        resolve();
      }, ms);
      this.waiting = { timer, reject };
    });
  }

  dispose(): void {
    this.signal?.removeEventListener("abort", this.onAbort);
    if (this.waiting) clearTimeout(this.waiting.timer);
    this.waiting = null;
  }
}

/** The signal's reason, or a standard AbortError for the rare signal aborted without one. */
export function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException("The operation was aborted.", "AbortError");
}
