/**
 * Callers that ask for the same key share one call, made after every one of them asked: at most one call per key
 * is under way at a time, and the callers who ask meanwhile share the next one, made when it settles.
 *
 * Why: a thousand subscribers joining one run at once each read the same run row and the same journal page. They
 * arrive over many event-loop turns (one request per socket read), so sharing within one turn alone left ~0.95
 * queries per join; sharing the next call after the one in flight leaves one query per query latency, however
 * many ask. The shared call is always made *after* its callers asked (on `setImmediate`, or once the previous call
 * settled), never reused from before: each caller gets an answer at least as fresh as its own question, which is
 * what a read it made itself would give. (Reusing a read already in flight would not be: it may predate a caller's
 * subscription, and the journal relies on "subscribe, then read".)
 */
export class ReadCoalescer<V> {
  private readonly keys = new Map<string, KeyState<V>>();

  /** `fn`'s result, shared with every other caller of `key` that asked before the shared call started. */
  run(key: string, fn: () => Promise<V>): Promise<V> {
    let state = this.keys.get(key);
    if (!state) this.keys.set(key, (state = { running: false, next: null }));
    if (state.next) return state.next.promise;
    const next = deferred<V>(fn);
    state.next = next;
    if (!state.running) setImmediate(() => this.start(key, state!));
    return next.promise;
  }

  private start(key: string, state: KeyState<V>): void {
    const batch = state.next!;
    // From here on, a caller of this key joins the batch after this one: this call may already be under way.
    state.next = null;
    state.running = true;
    const settled = () => {
      state.running = false;
      if (state.next) setImmediate(() => this.start(key, state));
      else this.keys.delete(key);
    };
    let call: Promise<V>;
    try {
      call = batch.fn();
    } catch (err) {
      call = Promise.reject(err);
    }
    call.then(
      (value) => {
        settled();
        batch.resolve(value);
      },
      (err) => {
        settled();
        batch.reject(err);
      },
    );
  }
}

interface Batch<V> {
  fn: () => Promise<V>;
  promise: Promise<V>;
  resolve(value: V): void;
  reject(err: unknown): void;
}

interface KeyState<V> {
  /** A call of this key is under way. */
  running: boolean;
  /** The callers waiting for the next call (made on the next turn, or when the running one settles). */
  next: Batch<V> | null;
}

function deferred<V>(fn: () => Promise<V>): Batch<V> {
  const batch = { fn } as Batch<V>;
  batch.promise = new Promise<V>((resolve, reject) => Object.assign(batch, { resolve, reject }));
  return batch;
}
