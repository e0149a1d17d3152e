import type { Request, Response } from "express";
import type { JournalEntry } from "@runline/journal";

export interface SseOptions {
  heartbeatMs: number;
  /** Journal events this subscriber receives (by event name before any `|namespace` suffix). */
  events: Set<string>;
  headers?: Record<string, string>;
  /** Called when the client goes away before the stream ended. */
  onClientGone?: () => void;
}

/** Frames one event the way the LangGraph server does (event, data, id). Without an id, `Last-Event-ID` is untouched. */
export function formatSseFrame(entry: { id?: string; event: string; dataJson: string }): string {
  return `event: ${entry.event}\ndata: ${entry.dataJson}${entry.id ? `\nid: ${entry.id}` : ""}\n\n`;
}

/**
 * The only SSE writer: headers, heartbeats, the journal's entries in order, and the end of the response once
 * the run's terminal event went out (or the client left). `entries` must stop when `signal` aborts.
 */
export async function pipeSse(
  req: Request,
  res: Response,
  subscribe: (signal: AbortSignal) => AsyncIterable<JournalEntry>,
  options: SseOptions,
): Promise<void> {
  res.status(200);
  res.set({
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-transform",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
    ...options.headers,
  });
  res.flushHeaders();
  req.socket.setNoDelay(true);
  const controller = new AbortController();
  let finished = false;
  const onClose = () => {
    if (!finished) {
      controller.abort();
      options.onClientGone?.();
    }
  };
  res.on("close", onClose);
  const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), options.heartbeatMs);
  try {
    for await (const entry of subscribe(controller.signal)) {
      const baseEvent = entry.event.split("|")[0];
      if (options.events.has(baseEvent)) res.write(formatSseFrame(entry));
      if (entry.event === "end") break;
    }
  } catch (err) {
    if (!controller.signal.aborted) {
      // No id: the client's Last-Event-ID stays at the last real event, so a reconnect resumes from there.
      res.write(formatSseFrame({ event: "error", dataJson: JSON.stringify({ error: "StreamError", message: "stream interrupted; reconnect with Last-Event-ID" }) }));
    }
  } finally {
    finished = true;
    clearInterval(heartbeat);
    res.off("close", onClose);
    res.end();
  }
}
