import { openSse, type SseFrame, type SseStream } from "@runline/testing";
import { userInput, type TestRunline } from "./harness";

/** A story slow enough to stop midway: `tokens` words, `delayMs` apart. */
export function slowStory(tokens = 60, delayMs = 20) {
  return { configurable: { story_tokens: tokens, story_token_delay_ms: delayMs } };
}

/** A streamed run the test can read token by token and cancel midway. */
export interface LiveRun {
  threadId: string;
  runId: string;
  stream: SseStream;
  frames: SseFrame[];
  /** Reads frames until `n` message tokens arrived. */
  readTokens(n: number): Promise<void>;
  /** Reads frames until one matches. */
  readUntil(match: (frame: SseFrame) => boolean): Promise<SseFrame>;
  /** Reads the rest of the stream (it closes after the run's terminal event). */
  readToEnd(): Promise<SseFrame[]>;
  tokens(): SseFrame[];
  streamedText(): string;
}

export async function startLiveRun(t: TestRunline, threadId: string, text: string, extra: Record<string, unknown> = {}): Promise<LiveRun> {
  const stream = await openSse(`${t.url}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "content-type": "application/json", ...t.api.headers },
    body: JSON.stringify({ assistant_id: "story", input: userInput(text), stream_mode: ["values", "messages-tuple"], config: slowStory(), ...extra }),
  });
  const runId = stream.headers.get("content-location")!.split("/").pop()!;
  const frames: SseFrame[] = [];
  const tokens = () => frames.filter((f) => f.event === "messages");
  return {
    threadId,
    runId,
    stream,
    frames,
    async readTokens(n) {
      while (tokens().length < n) {
        const next = await stream.frames.next();
        if (next.done) throw new Error(`stream ended after ${tokens().length} tokens`);
        frames.push(next.value);
      }
    },
    async readUntil(match) {
      for (;;) {
        const next = await stream.frames.next();
        if (next.done) throw new Error(`stream ended before the awaited frame: ${JSON.stringify(frames.slice(-3))}`);
        frames.push(next.value);
        if (match(next.value)) return next.value;
      }
    },
    async readToEnd() {
      for await (const frame of stream.frames) frames.push(frame);
      return frames;
    },
    tokens,
    streamedText: () => tokens().map((f) => f.data[0].content).join(""),
  };
}

export async function cancel(t: TestRunline, run: { threadId: string; runId: string }, query = "wait=1&action=interrupt") {
  return t.api.post(`/threads/${run.threadId}/runs/${run.runId}/cancel?${query}`);
}

export async function newThread(t: TestRunline): Promise<string> {
  return (await t.api.post("/threads", {})).body.thread_id;
}
