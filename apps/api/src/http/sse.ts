import type { Request, Response } from "express";
import { baseEventName, type JournalEntry } from "@runline/journal";

/** The timing of every SSE stream of an API (from config). */
export interface SseTiming {
  heartbeatMs: number;
  /**
   * How long a client may leave its socket full (not reading) before it is dropped, with a last event telling
   * it to reconnect with its Last-Event-ID (the journal still has everything). @defaultValue 30_000
   */
  slowClientMs?: number;
}

export interface SseOptions extends SseTiming {
  /** Journal events this subscriber receives (by event name before any `|namespace` suffix). */
  events: Set<string>;
  headers?: Record<string, string>;
  /** Called when the client goes away before the stream ended. */
  onClientGone?: () => void;
}

/** The last event a too-slow client gets before the server closes its stream. */
export const SLOW_CLIENT_EVENT = { error: "SlowConsumer", message: "client did not keep up with the stream; reconnect with Last-Event-ID" };

/** Frames one event the way the LangGraph server does (event, data, id). Without an id, `Last-Event-ID` is untouched. */
export function formatSseFrame(entry: { id?: string; event: string; dataJson: string }): string {
  return `event: ${entry.event}\ndata: ${entry.dataJson}${entry.id ? `\nid: ${entry.id}` : ""}\n\n`;
}

/** A frame's bytes, and the same bytes framed as one HTTP/1.1 chunk (size line, frame, CRLF). */
export interface EncodedSseFrame {
  frame: Buffer;
  chunk: Buffer;
}

// One encoded frame per journal entry object, shared by every stream of this process that writes it: the journal
// hub hands the same live entry to all of a run's subscribers, and the readers sharing a backlog page share its
// entries. At a thousand subscribers of one run, the frame is built and UTF-8 encoded once instead of a thousand
// times, and each response writes the same bytes. Weak: a frame lives as long as its entry.
const encodedFrames = new WeakMap<JournalEntry, EncodedSseFrame>();

/** {@link formatSseFrame} of a journal entry, as bytes (bare and as a chunk), encoded once per entry object. */
export function encodedSseFrame(entry: JournalEntry): EncodedSseFrame {
  let encoded = encodedFrames.get(entry);
  if (!encoded) {
    const text = formatSseFrame(entry);
    const size = Buffer.byteLength(text);
    const head = `${size.toString(16)}\r\n`;
    const chunk = Buffer.from(`${head}${text}\r\n`);
    encoded = { chunk, frame: chunk.subarray(head.length, head.length + size) };
    encodedFrames.set(entry, encoded);
  }
  return encoded;
}

/**
 * Writes one frame; returns the stream to wait on for 'drain' when that write filled its buffer, else null.
 * While the response owns its socket and sends chunked (every HTTP/1.1 SSE response here), the frame goes to the
 * socket as its prebuilt chunk, in one write: `res.write` would make four of it (size line, frame, CRLF, each
 * through the socket's write path), per subscriber per frame. Anything else (HTTP/1.0, a pipelined response
 * still queued behind another on its socket, a socket gone) goes through `res.write`.
 */
function writeFrame(res: Response, encoded: EncodedSseFrame): NodeJS.EventEmitter | null {
  const socket = res.socket;
  const ownsSocket = !!socket && (socket as { _httpMessage?: unknown })._httpMessage === res && !socket.destroyed;
  if (ownsSocket && res.chunkedEncoding && res.headersSent && !res.writableEnded) {
    corkForThisTick(socket!);
    return socket!.write(encoded.chunk) ? null : socket;
  }
  return res.write(encoded.frame) ? null : res;
}

/**
 * Frames written in one go (a joiner's backlog: a journal page yielded entry after entry without waiting) leave
 * in one `writev` instead of one syscall each; a lone live frame leaves when the tick ends, as it would anyway.
 */
function corkForThisTick(socket: NodeJS.WritableStream & { writableCorked: number; cork(): void; uncork(): void }): void {
  if (socket.writableCorked) return;
  socket.cork();
  process.nextTick(() => socket.uncork());
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
  // A heartbeat only into an empty socket buffer: behind a full one it would be one more thing to buffer.
  const slowClientMs = options.slowClientMs ?? 30_000;
  const heartbeat = setInterval(() => res.writableNeedDrain || res.socket?.writableNeedDrain || res.write(": heartbeat\n\n"), options.heartbeatMs);
  try {
    for await (const entry of subscribe(controller.signal)) {
      // Backpressure: a full socket buffer stops the pull from the journal until the client reads, so what a
      // connection holds in memory is bounded by its socket buffer, never by the length of the run.
      const full = options.events.has(baseEventName(entry.event)) ? writeFrame(res, encodedSseFrame(entry)) : null;
      if (full) {
        if (!(await drained(full, controller.signal, slowClientMs))) {
          if (!controller.signal.aborted) {
            res.write(formatSseFrame({ event: "error", dataJson: JSON.stringify(SLOW_CLIENT_EVENT) }));
            // The goodbye may never be read either: past one more period the socket is closed with what it holds.
            setTimeout(() => res.destroy(), slowClientMs).unref();
          }
          break;
        }
      }
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

/** Resolves true once `stream` (the response or its socket) drained, false after `timeoutMs` or when the client left. */
function drained(stream: NodeJS.EventEmitter, signal: AbortSignal, timeoutMs: number): Promise<boolean> {
  // A client already gone never drains: do not wait out the slow-client limit for it.
  if (signal.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      stream.off("drain", onDrain);
      signal.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    stream.on("drain", onDrain);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
