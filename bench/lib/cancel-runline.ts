import { performance } from "node:perf_hooks";
import { isDeepStrictEqual } from "node:util";
import { openSse, type SseFrame } from "@runline/testing";
import { createThread } from "./over-http";
import { storyRunBody, type StoryPace } from "./workload";

/** A frame with the time this process parsed it. */
interface TimedFrame extends SseFrame {
  at: number;
}

/** Journal ids are Redis stream ids `<ms>-<seq>`; compares them as Redis orders them. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am !== bm ? am - bm : as - bs;
}

const idMs = (id: string | undefined) => (id ? Number(id.split("-")[0]) : Number.NaN);

/** One `POST …/cancel?wait=1&action=interrupt` of a streaming run, and what the subscriber saw around it. */
export interface RunlineCancelSample {
  /** Just before the cancel request → its JSON response parsed. */
  latencyMs: number;
  /** Tokens the client waited for before cancelling. */
  readTokens: number;
  /** Tokens the client had parsed when it sent the cancel (≥ readTokens: the reader runs on). */
  tokensAtRequest: number;
  /** Every `messages` frame the subscriber received, to the end of the stream. */
  tokensReceived: number;
  /** `partial.token_count` in the cancel response. */
  partialTokenCount: number;
  /** Token frames this process parsed after it had parsed the cancel response. */
  tokensParsedAfterResponse: number;
  /** Token frames whose journal id is after the final `values` event (appended right after the partial was saved). */
  tokensAfterSave: number;
  /** Token frames whose journal id is after the terminal `end` event. */
  tokensAfterEnd: number;
  /** Where the time went, from the journal ids (Redis ms clock = this machine's clock; ±1 ms each). */
  journal: {
    /** Request sent → final `values` appended by the worker (intent, publish, abort, settle, partial saved). */
    requestToValuesMs: number;
    /** Final `values` → `end` appended (run row finished in Postgres, terminal event). */
    valuesToEndMs: number;
    /** `end` appended → response parsed (API hears `end`, re-reads the run, answers; client parses). */
    endToResponseMs: number;
    /** Last token appended → final `values` appended. */
    lastTokenToValuesMs: number;
  };
  runId: string;
  threadId: string;
  /** Wall clock (ms since epoch) just before the cancel request, to line samples up with e.g. Postgres checkpoints. */
  atWallMs: number;
  /** `performance.now()` just before the request and when the response was parsed (to line up traced marks). */
  clock: { request: number; response: number };
}

/** Starts a story run on the thread and opens its SSE stream (tokens and values), as both measurements do. */
function streamStory(baseUrl: string, threadId: string, pace: StoryPace) {
  return openSse(`${baseUrl}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: storyRunBody(pace, ["messages-tuple", "values"]),
  });
}

/** A streaming run that has delivered its first `readTokens` tokens and waits to be cancelled. */
export interface ReadyRunlineCancel {
  runId: string;
  /** `POST …/cancel?wait=1&action=interrupt` now; checks what the subscriber saw and measures it. */
  cancel(): Promise<RunlineCancelSample>;
}

export async function cancelRunlineRun(baseUrl: string, pace: StoryPace, readTokens: number): Promise<RunlineCancelSample> {
  return (await prepareRunlineCancel(baseUrl, pace, readTokens)).cancel();
}

/**
 * Starts a story run and reads its stream until `readTokens` tokens arrived; the reader runs on in the background
 * while the caller decides when to cancel (a storm cancels many ready runs at the same moment).
 */
export async function prepareRunlineCancel(baseUrl: string, pace: StoryPace, readTokens: number): Promise<ReadyRunlineCancel> {
  const threadId = await createThread(baseUrl);
  const sse = await streamStory(baseUrl, threadId, pace);
  if (sse.status !== 200) throw new Error(`runs/stream answered ${sse.status}`);
  const runId = sse.headers.get("content-location")!.split("/").pop()!;

  // Reads the stream in the background from the start, so frames are parsed as they arrive (also while the
  // cancel request is in flight) and each gets its own arrival time.
  const frames: TimedFrame[] = [];
  let tokens = 0;
  let reached!: () => void;
  const reachedTarget = new Promise<void>((resolve) => (reached = resolve));
  const reading = (async () => {
    for await (const frame of sse.frames) {
      frames.push({ ...frame, at: performance.now() });
      if (frame.event === "messages" && ++tokens === readTokens) reached();
      if (frame.event === "error") throw new Error(`run ${runId} failed: ${JSON.stringify(frame.data)}`);
    }
  })();
  reading.catch(() => undefined); // reported by cancel(); a storm may hold a failed run a while before it
  await Promise.race([reachedTarget, reading.then(() => Promise.reject(new Error(`stream ended after ${tokens} tokens`)))]);

  const cancel = async (): Promise<RunlineCancelSample> => {
    const tokensAtRequest = tokens;
    const requestWall = Date.now();
    const t0 = performance.now();
    const res = await fetch(`${baseUrl}/threads/${threadId}/runs/${runId}/cancel?wait=1&action=interrupt`, { method: "POST" });
    const body = (await res.json()) as any;
    const t1 = performance.now();
    const responseWall = Date.now();
    await reading;

    if (res.status !== 200 || body.outcome !== "cancelled" || body.status !== "interrupted") {
      throw new Error(`cancel of ${runId} answered ${res.status} ${JSON.stringify(body)}`);
    }
    const partial = body.partial;
    if (!partial || !(partial.token_count > 0)) throw new Error(`cancel of ${runId}: no partial saved: ${JSON.stringify(body)}`);
    const end = frames[frames.length - 1];
    if (end?.event !== "end" || end.data?.status !== "interrupted") throw new Error(`run ${runId}: stream did not close with end/interrupted`);
    if (!isDeepStrictEqual(end.data.partial, partial)) {
      throw new Error(`run ${runId}: end frame partial ${JSON.stringify(end.data.partial)} differs from the cancel response's ${JSON.stringify(partial)}`);
    }
    const tokenFrames = frames.filter((f) => f.event === "messages");
    const finalValues = [...frames].reverse().find((f) => f.event === "values");
    if (!finalValues?.id || !end.id) throw new Error(`run ${runId}: no final values/end ids`);
    const lastToken = tokenFrames[tokenFrames.length - 1]!;
    return {
      latencyMs: t1 - t0,
      readTokens,
      tokensAtRequest,
      tokensReceived: tokenFrames.length,
      partialTokenCount: partial.token_count,
      tokensParsedAfterResponse: tokenFrames.filter((f) => f.at > t1).length,
      tokensAfterSave: tokenFrames.filter((f) => compareStreamIds(f.id!, finalValues.id!) > 0).length,
      tokensAfterEnd: tokenFrames.filter((f) => compareStreamIds(f.id!, end.id!) > 0).length,
      journal: {
        requestToValuesMs: idMs(finalValues.id) - requestWall,
        valuesToEndMs: idMs(end.id) - idMs(finalValues.id),
        endToResponseMs: responseWall - idMs(end.id),
        lastTokenToValuesMs: idMs(finalValues.id) - idMs(lastToken.id),
      },
      runId,
      threadId,
      atWallMs: requestWall,
      clock: { request: t0, response: t1 },
    };
  };
  return { runId, cancel };
}

/**
 * Keeps `size` other runs streaming through Runline (each on its own thread, each read to its end by an SSE
 * client in this process), starting a new one whenever one finishes, until {@link RunlineLoad.stop}.
 */
export class RunlineLoad {
  private stopping = false;
  private readonly active = new Map<number, { threadId: string; runId: string }>();
  private loops: Promise<void>[] = [];
  private firstTokens = 0;
  private allStreaming!: () => void;
  /** Resolves once every slot's first run delivered its first token. */
  readonly streaming = new Promise<void>((resolve) => (this.allStreaming = resolve));
  runsCompleted = 0;
  tokensDelivered = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly size: number,
    private readonly pace: () => StoryPace,
  ) {}

  /** Failures of load runs (kept, not thrown at once: an unhandled rejection would end the process). */
  readonly errors: unknown[] = [];

  start(): this {
    this.loops = Array.from({ length: this.size }, (_, slot) => this.loop(slot).catch((err) => void this.errors.push(err)));
    return this;
  }

  private cancel(threadId: string, runId: string): Promise<unknown> {
    return fetch(`${this.baseUrl}/threads/${threadId}/runs/${runId}/cancel?wait=0&action=interrupt`, { method: "POST" }).then((r) => r.arrayBuffer());
  }

  private async loop(slot: number): Promise<void> {
    let first = true;
    while (!this.stopping) {
      const pace = this.pace();
      const threadId = await createThread(this.baseUrl);
      if (this.stopping) return;
      const sse = await streamStory(this.baseUrl, threadId, pace);
      if (sse.status !== 200) throw new Error(`load run: runs/stream answered ${sse.status}`);
      const runId = sse.headers.get("content-location")!.split("/").pop()!;
      this.active.set(slot, { threadId, runId });
      if (this.stopping) void this.cancel(threadId, runId); // started after stop() took its snapshot
      let status: string | undefined;
      for await (const frame of sse.frames) {
        if (frame.event === "messages") {
          this.tokensDelivered += 1;
          if (first) {
            first = false;
            if (++this.firstTokens === this.size) this.allStreaming();
          }
        } else if (frame.event === "end") status = frame.data?.status;
        else if (frame.event === "error") throw new Error(`load run ${runId} failed: ${JSON.stringify(frame.data)}`);
      }
      this.active.delete(slot);
      if (status !== "success" && !(this.stopping && status === "interrupted")) throw new Error(`load run ${runId} ended ${status}`);
      this.runsCompleted += 1;
    }
  }

  /** Stops restarting runs, cancels the ones still streaming (wait=0) and waits for their streams to close. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.active.values()].map(({ threadId, runId }) => this.cancel(threadId, runId)));
    await Promise.all(this.loops);
    if (this.errors.length) throw new Error(`${this.errors.length} load run(s) failed, first: ${String(this.errors[0])}`);
  }
}
