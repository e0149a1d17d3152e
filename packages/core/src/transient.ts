/**
 * Connection-level failures of Postgres or Redis: the operation may succeed if tried again once the dependency
 * is back. Anything else (a bug, a constraint, bad data) is not retried: retrying would hide it.
 */
export function isTransientError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; name?: unknown } | null;
  if (!e || typeof e !== "object") return false;
  const code = typeof e.code === "string" ? e.code : "";
  // Node socket errors, and Postgres SQLSTATE class 08 (connection exception) and 57P0x (server shutting down).
  if (/^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND)$/.test(code)) return true;
  if (/^08/.test(code) || /^57P0[1-3]$/.test(code)) return true;
  const message = typeof e.message === "string" ? e.message : "";
  // node-postgres and ioredis report lost connections by message only.
  return /Connection terminated|timeout exceeded when trying to connect|timed out waiting for a free Postgres connection|Connection is closed|Command aborted due to connection close|Client has encountered a connection error|LOADING|Reached the max retries per request limit/i.test(
    message,
  );
}

/** Options of {@link retryTransient}. */
export interface RetryTransientOptions {
  /** Names the operation in the retry log. */
  name: string;
  /** Told about every retry (the error and the delay before the next try); Runline logs it at `warn`. */
  onRetry?: (info: { name: string; attempt: number; delayMs: number; error: unknown }) => void;
  /** Stops retrying (rethrowing the last error) once aborted, e.g. when the process closes. */
  signal?: AbortSignal;
  /** Gives up after this long in total. @defaultValue 60_000 */
  maxElapsedMs?: number;
  /** First delay; doubled after each try up to `maxDelayMs`. @defaultValue 100 */
  baseDelayMs?: number;
  /** @defaultValue 2_000 */
  maxDelayMs?: number;
}

/**
 * Runs `operation`, retrying it with exponential backoff while it fails with a transient error (see
 * {@link isTransientError}): a Postgres restart or a Redis failover shorter than `maxElapsedMs` costs delay,
 * not a stranded run. Other errors are thrown at once. The operation must be safe to repeat.
 */
export async function retryTransient<T>(operation: () => Promise<T>, options: RetryTransientOptions): Promise<T> {
  const started = Date.now();
  const maxElapsedMs = options.maxElapsedMs ?? 60_000;
  let delayMs = options.baseDelayMs ?? 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const outOfTime = Date.now() - started + delayMs > maxElapsedMs;
      if (!isTransientError(error) || options.signal?.aborted || outOfTime) throw error;
      options.onRetry?.({ name: options.name, attempt, delayMs, error });
      await abortableDelay(delayMs, options.signal);
      delayMs = Math.min(delayMs * 2, options.maxDelayMs ?? 2_000);
    }
  }
}

function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
