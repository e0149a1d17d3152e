import { openSse, type SseStream } from "@runline/testing";
import { sleep, type RunRef } from "./api";

/** What one SSE subscriber of a run received, across its reconnects. */
export interface SubscriberLog {
  runId: string;
  /** Journal ids of the `messages` and `end` frames, in arrival order (compared with the journal's). */
  ids: string[];
  ends: number;
  /** Times the stream closed (or could not open) before `end`, and the subscriber resumed with Last-Event-ID. */
  reconnects: number;
  lastError?: string;
}

const COUNTED = new Set(["messages", "end"]);
const MAX_RECONNECTS = 50;

/**
 * Joins a run's stream as a resumable client does (the SDK's `joinStream` with `lastEventId`): from the start,
 * and after any drop from the last id it saw, until `end` or until `stop` aborts.
 */
export function subscribe(baseUrl: string, run: RunRef, stop: AbortSignal): Promise<SubscriberLog> {
  const log: SubscriberLog = { runId: run.runId, ids: [], ends: 0, reconnects: 0 };
  let lastId = "-1";
  let current: SseStream | null = null;
  const onStop = () => current?.close();
  stop.addEventListener("abort", onStop, { once: true });
  const loop = async () => {
    for (let attempt = 0; !stop.aborted && log.ends === 0 && attempt <= MAX_RECONNECTS; attempt++) {
      if (attempt > 0) {
        log.reconnects++;
        await sleep(200);
      }
      try {
        current = await openSse(`${baseUrl}/threads/${run.threadId}/runs/${run.runId}/stream`, { headers: { "last-event-id": lastId } });
        if (current.status !== 200) {
          log.lastError = `HTTP ${current.status}`;
          current.close();
          continue;
        }
        for await (const frame of current.frames) {
          if (frame.id) lastId = frame.id;
          if (COUNTED.has(frame.event) && frame.id) log.ids.push(frame.id);
          if (frame.event === "end") log.ends++;
        }
      } catch (err) {
        log.lastError = (err as Error).message;
      }
    }
    stop.removeEventListener("abort", onStop);
    return log;
  };
  return loop();
}
