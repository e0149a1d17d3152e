import { randomUUID } from "node:crypto";
import { openSse, type SseStream } from "@runline/testing";
import type { TestRunline } from "./harness";

/** Every channel the root pump of `@langchain/react` 1.x asks for, plus the rest. */
export const ALL_CHANNELS = ["values", "updates", "messages", "tools", "lifecycle", "input", "checkpoints", "tasks", "custom"];

/** A fresh client-minted thread id, as the 1.x client makes them (no POST /threads). */
export function mintThreadId(t: TestRunline): string {
  return `${t.ns.id}-${randomUUID()}`;
}

let nextId = 1;

/** Sends one protocol v2 command and returns the HTTP status and the reply envelope. */
export async function command(t: TestRunline, threadId: string, method: string, params: unknown): Promise<{ status: number; body: any }> {
  return t.api.request("POST", `/threads/${threadId}/commands`, { id: nextId++, method, params });
}

/** `run.start` of the story graph with a short, quick story; returns the run id. */
export async function startRun(t: TestRunline, threadId: string, text: string, extra: Record<string, unknown> = {}): Promise<{ runId: string; reply: any }> {
  const { body } = await command(t, threadId, "run.start", {
    assistant_id: "story",
    input: { messages: [{ role: "user", content: text }] },
    config: { configurable: { thread_id: threadId, story_tokens: 12, story_token_delay_ms: 2 } },
    ...extra,
  });
  if (body?.type !== "success") throw new Error(`run.start failed: ${JSON.stringify(body)}`);
  return { runId: body.result.run_id, reply: body };
}

/** Opens `POST /threads/{tid}/stream/events` with a filter. */
export function openEvents(t: TestRunline, threadId: string, filter: Record<string, unknown> = { channels: ALL_CHANNELS }): Promise<SseStream> {
  return openSse(`${t.url}/threads/${threadId}/stream/events`, {
    method: "POST",
    headers: { ...t.api.headers, "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify(filter),
  });
}

/**
 * Reads v2 events until `done(event, all)` holds (the stream never ends by itself), bounded by a deadline. The
 * stream stays open for further reads (frames are pulled one by one, never through a `for await` that would
 * close it on exit).
 */
export async function readUntil(stream: SseStream, done: (event: any, all: any[]) => boolean, timeoutMs = 15_000): Promise<any[]> {
  const events: any[] = [];
  const timer = setTimeout(() => stream.close(), timeoutMs);
  try {
    for (;;) {
      const next = await stream.frames.next();
      if (next.done) break;
      events.push(next.value.data);
      if (done(next.value.data, events)) return events;
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`stream ended before the condition held; got ${events.map((e) => `${e.method}:${e.params?.data?.event ?? ""}`).join(", ")}`);
}

/** Root terminal lifecycle events. */
export const isTerminal = (e: any) =>
  e.method === "lifecycle" && e.params.namespace.length === 0 && ["completed", "failed", "interrupted"].includes(e.params.data.event);

/** The text streamed as `messages` text deltas, in order. */
export function streamedText(events: any[]): string {
  return events
    .filter((e) => e.method === "messages" && e.params.data.event === "content-block-delta")
    .map((e) => e.params.data.delta.text)
    .join("");
}
