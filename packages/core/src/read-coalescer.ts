/** Options of {@link ReadCoalescer}. */
export interface ReadCoalescerOptions {
  /**
   * How long the callers who asked during a call wait for it to settle before their own call starts anyway, so
   * one call that hangs (a half-open socket) does not hold every later caller of its key. @defaultValue 1_000
   */
  maxWaitMs?: number;
}

/**
 * Callers that ask for the same key share one call, made after every one of them asked: normally one call per key
 * is under way at a time, and the callers who ask meanwhile share the next one, made when it settles (or after
 * `maxWaitMs`, if it has not).
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
  private readonly maxWaitMs: number;

  constructor(options: ReadCoalescerOptions = {}) {
    this.maxWaitMs = options.maxWaitMs ?? 1_000;
  }

  /** `fn`'s result, shared with every other caller of `key` that asked before the shared call started. */
  run(key: string, fn: () => Promise<V>): Promise<V> {
    let state = this.keys.get(key);
    if (!state) this.keys.set(key, (state = { inFlight: 0, next: null }));
    if (state.next) return state.next.promise;
    const next = newBatch<V>(fn);
    state.next = next;
    const owner = state;
    if (owner.inFlight === 0) setImmediate(() => this.start(key, owner, next));
    else next.timer = setTimeout(() => this.start(key, owner, next), this.maxWaitMs).unref();
    return next.promise;
  }

  private start(key: string, state: KeyState<V>, batch: Batch<V>): void {
    // Started once: by its turn, by the previous call settling, or by the wait running out, whichever is first.
    if (state.next !== batch) return;
    clearTimeout(batch.timer);
    // From here on, a caller of this key joins the batch after this one: this call may already be under way.
    state.next = null;
    state.inFlight++;
    const settled = () => {
      state.inFlight--;
      const waiting = state.next;
      if (waiting && state.inFlight === 0) setImmediate(() => this.start(key, state, waiting));
      else if (!waiting && state.inFlight === 0) this.keys.delete(key);
    };
    // A plain value or a synchronous throw of `fn` settles the batch like a promise would.
    new Promise<V>((resolve) => resolve(batch.fn())).then(
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
  /** Starts the batch if the call in flight has not settled within `maxWaitMs`. */
  timer?: NodeJS.Timeout;
}

interface KeyState<V> {
  /** Calls of this key under way (more than one only after a call outlived `maxWaitMs`). */
  inFlight: number;
  /** The callers waiting for the next call. */
  next: Batch<V> | null;
}

function newBatch<V>(fn: () => Promise<V>): Batch<V> {
  const batch = { fn } as Batch<V>;
  batch.promise = new Promise<V>((resolve, reject) => Object.assign(batch, { resolve, reject }));
  return batch;
}
