/**
 * A `fetch` for the OpenAI client that fails a model request when the provider sends no byte for `idleMs`:
 * before the response headers and between body chunks alike. A stalled provider otherwise holds the run (and a
 * worker slot) until the run's own limit, if any; `ChatOpenAI`'s `timeout` bounds the whole request instead,
 * which would cut a long but healthy answer.
 */

/** The provider sent nothing for the configured time. The message names the setting to change. */
export class ModelIdleTimeoutError extends Error {
  constructor(readonly idleMs: number) {
    super(`Model provider sent no data for ${idleMs} ms (RUNLINE_MODEL_IDLE_TIMEOUT_MS)`);
    this.name = "ModelIdleTimeoutError";
  }
}

export function createIdleTimeoutFetch(idleMs: number, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const controller = new AbortController();
    const outer = init?.signal;
    // The caller's signal (a cancel) still aborts the request at once; ours only adds the idle deadline.
    const forward = () => controller.abort(outer?.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener("abort", forward, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      clearTimeout(timer);
      outer?.removeEventListener("abort", forward);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new ModelIdleTimeoutError(idleMs)), idleMs);
    };
    // A timed-out request surfaces our error, not a bare AbortError the client might misread as a user abort.
    const why = (err: unknown) => (controller.signal.reason instanceof ModelIdleTimeoutError ? controller.signal.reason : err);
    arm();
    let res: Response;
    try {
      res = await base(input, { ...init, signal: controller.signal });
    } catch (err) {
      stop();
      throw why(err);
    }
    if (!res.body) {
      stop();
      return res;
    }
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(sink) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            stop();
            sink.close();
            return;
          }
          arm();
          sink.enqueue(value);
        } catch (err) {
          stop();
          sink.error(why(err));
        }
      },
      cancel(reason) {
        stop();
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
