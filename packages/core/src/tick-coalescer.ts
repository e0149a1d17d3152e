/**
 * Callers that ask for the same key within one event-loop turn share one call, made once the turn is over.
 *
 * Why: a thousand subscribers joining one run at once each read the same run row and the same journal page;
 * one read serves them all. The shared call is made *after* every caller of the batch asked (on `setImmediate`),
 * never reused from before: each caller gets an answer at least as fresh as its own question, which is what a
 * read it made itself would give. (Reusing a read already in flight would not be: it may predate a caller's
 * subscription, and the journal relies on "subscribe, then read".)
 */
export class TickCoalescer<V> {
  private readonly pending = new Map<string, Promise<V>>();

  /** `fn`'s result, shared with every other caller of `key` in this turn; `fn` runs once, after the turn. */
  run(key: string, fn: () => Promise<V>): Promise<V> {
    const waiting = this.pending.get(key);
    if (waiting) return waiting;
    const shared = new Promise<V>((resolve, reject) => {
      setImmediate(() => {
        // From here on, a caller of this key starts a new batch: this call may already be under way.
        this.pending.delete(key);
        fn().then(resolve, reject);
      });
    });
    this.pending.set(key, shared);
    return shared;
  }
}
