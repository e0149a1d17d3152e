// Reading the thread right after stop() — and getting the partial.
//
// useStream's stop() closes the run's stream (or, with reconnectOnMount, sends POST …/cancel without waiting)
// and at once re-reads the thread (POST /threads/{tid}/history) to show "what the server kept". Runline keeps
// the partial output, but it commits it a few milliseconds after the stop: the worker has to stop the model and
// write the checkpoint. A read that arrives first gets the thread without the partial, and the stock hook then
// shows the question alone, as if nothing had been written, until the next reload or run.
//
// So the page's fetch holds that one read (the first state/history read of the stopped thread) until the thread
// is no longer `busy` (Runline sets it idle in the same transaction that finishes the cancelled run, after the
// partial is saved), bounded by SETTLE_TIMEOUT_MS. Nothing else is delayed. `?settle=0` switches it off, to see
// the stock behaviour.

const SETTLE_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

const enabled = new URLSearchParams(window.location.search).get("settle") !== "0";
const stopped = new Map<string, number>(); // thread id → until when its next read waits

/** Call just before `stream.stop()`: the hook's next read of this thread waits for the stop to be saved. */
export function markStopped(threadId: string | null | undefined): void {
  if (enabled && threadId) stopped.set(threadId, Date.now() + SETTLE_TIMEOUT_MS);
}

const THREAD_READ = /\/threads\/([^/]+)\/(?:history|state)$/;

async function waitUntilNotBusy(base: typeof fetch, origin: string, threadId: string, until: number, signal?: AbortSignal | null) {
  while (Date.now() < until && !signal?.aborted) {
    try {
      const res = await base(`${origin}/threads/${threadId}`, { signal: signal ?? undefined });
      if (!res.ok) return;
      const thread = (await res.json()) as { status?: string };
      if (thread.status !== "busy") return;
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** A fetch for the SDK client (`callerOptions.fetch`): like window.fetch, but holds a read right after a stop. */
export const settlingFetch: typeof fetch = async (input, init) => {
  const base = window.fetch.bind(window);
  const raw = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  const url = new URL(raw, window.location.href);
  const match = THREAD_READ.exec(url.pathname);
  const threadId = match ? decodeURIComponent(match[1]!) : undefined;
  const until = threadId ? stopped.get(threadId) : undefined;
  if (threadId && until) {
    stopped.delete(threadId);
    const prefix = url.pathname.slice(0, match!.index);
    await waitUntilNotBusy(base, url.origin + prefix, threadId, until, init?.signal);
  }
  return base(input, init);
};
