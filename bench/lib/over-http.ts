import { performance } from "node:perf_hooks";
import { openSse } from "@runline/testing";
import { TokenClock, type RunTiming } from "./timing";
import { storyRunBody, type StoryPace } from "./workload";

/** A run streamed through Runline, with what the client saw besides the token timings. */
export interface HttpRunTiming extends RunTiming {
  /** `status` of the terminal `end` frame (`success` expected). */
  endStatus: string | undefined;
  /** Bytes of JSON in each `messages` frame's `data:` line, for the first token (what a token costs on the wire). */
  tokenFrameBytes: number;
  /** Where the TTFT went; see {@link TtftPhases}. */
  phases: TtftPhases;
  /** `performance.now()` at request start, response headers and first token (to place traced I/O on them). */
  marks: { start: number; headers: number; firstToken: number };
}

/**
 * The TTFT of one run split at points visible from outside. Journal entry ids are `<redis-ms>-<seq>`, stamped
 * by Redis when the worker appends, and the SSE `id:` carries them; Redis runs on this machine, so its clock
 * is ours (ms resolution, so single values are ±1 ms; medians over many runs are fine).
 */
export interface TtftPhases {
  /** POST sent → response headers (run row created, job enqueued, SSE subscription opened). */
  headersMs: number;
  /** POST sent → worker appended `metadata` (claimed the run, about to start the graph). */
  toWorkerStartMs: number;
  /** Worker's `metadata` → first token appended to the journal (graph start, input checkpoint, model delay). */
  workerToFirstAppendMs: number;
  /** First token appended → the client parsed its frame (pub/sub, hub, SSE write, HTTP, client parse). */
  appendToClientMs: number;
}

const idMs = (id: string | undefined) => (id ? Number(id.split("-")[0]) : Number.NaN);

/** `POST /threads`; not part of any timed interval. */
export async function createThread(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/threads`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ metadata: { purpose: "bench" } }),
  });
  if (res.status !== 200) throw new Error(`POST /threads answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { thread_id: string }).thread_id;
}

/**
 * `POST /threads/{tid}/runs/stream` and reads the SSE response to its `end` frame. The clock starts right
 * before the request, so TTFT includes run creation, queueing, worker pickup, journal and SSE delivery,
 * as a client experiences it. Uses the project's own SSE client (`@runline/testing`), which parses every
 * frame's JSON: that client cost runs in this same process and is part of the numbers.
 */
export async function streamOverHttp(baseUrl: string, threadId: string, pace: StoryPace): Promise<HttpRunTiming> {
  const body = storyRunBody(pace);
  const postedAt = Date.now();
  const clock = new TokenClock(performance.now());
  const sse = await openSse(`${baseUrl}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const headersAt = Date.now();
  const headersMark = performance.now();
  if (sse.status !== 200) throw new Error(`runs/stream answered ${sse.status}`);
  let endStatus: string | undefined;
  let tokenFrameBytes = 0;
  let metadataId: string | undefined;
  let firstTokenId: string | undefined;
  let firstTokenAt = Number.NaN;
  let firstTokenMark = Number.NaN;
  for await (const frame of sse.frames) {
    if (frame.event === "messages") {
      clock.token();
      if (clock.tokens === 1) {
        firstTokenAt = Date.now();
        firstTokenMark = performance.now();
        firstTokenId = frame.id;
        tokenFrameBytes = JSON.stringify(frame.data).length;
      }
    } else if (frame.event === "metadata") {
      metadataId = frame.id;
    } else if (frame.event === "end") {
      endStatus = frame.data?.status;
    } else if (frame.event === "error") {
      throw new Error(`run failed: ${JSON.stringify(frame.data)}`);
    }
  }
  const phases: TtftPhases = {
    headersMs: headersAt - postedAt,
    toWorkerStartMs: idMs(metadataId) - postedAt,
    workerToFirstAppendMs: idMs(firstTokenId) - idMs(metadataId),
    appendToClientMs: firstTokenAt - idMs(firstTokenId),
  };
  const marks = { start: clock.start, headers: headersMark, firstToken: firstTokenMark };
  return { ...clock.finish(), endStatus, tokenFrameBytes, phases, marks };
}
