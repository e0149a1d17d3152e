/** A JSON answer, or the transport failure (a chaos run expects some requests to fail; none may throw). */
export interface ApiResponse {
  status: number;
  body: any;
  ms: number;
  /** Set when no HTTP answer came (connection refused, reset, timeout). */
  error?: string;
}

/** The few calls the scenarios make against one Runline API, each bounded by a timeout. */
export class Api {
  constructor(readonly url: string) {}

  async request(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<ApiResponse> {
    const started = performance.now();
    try {
      const res = await fetch(this.url + path, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let parsed: any = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* `runs/wait` sends keep-alive newlines first; anything else unparsable stays text */
      }
      return { status: res.status, body: parsed, ms: performance.now() - started };
    } catch (err) {
      return { status: 0, body: null, ms: performance.now() - started, error: (err as Error).message };
    }
  }

  async newThread(): Promise<string> {
    const res = await this.request("POST", "/threads", {});
    if (res.status !== 200) throw new Error(`POST /threads: ${res.status} ${res.error ?? JSON.stringify(res.body)}`);
    return res.body.thread_id;
  }

  /** A background story run on `threadId` (queued behind the thread's active run: `enqueue`). */
  async startRun(threadId: string, story: Story, text = "tell me a story"): Promise<string> {
    const res = await this.request("POST", `/threads/${threadId}/runs`, runBody(story, text));
    if (res.status !== 200) throw new Error(`POST /threads/${threadId}/runs: ${res.status} ${res.error ?? JSON.stringify(res.body)}`);
    return res.body.run_id;
  }

  /** A story run waited for (`runs/wait`); the answer carries the run's last values. */
  waitRun(threadId: string, story: Story, text = "a short one", timeoutMs = 30_000): Promise<ApiResponse> {
    return this.request("POST", `/threads/${threadId}/runs/wait`, runBody(story, text), timeoutMs);
  }

  cancel(run: RunRef, wait: boolean, action: "interrupt" | "rollback" = "interrupt"): Promise<ApiResponse> {
    // The server waits at most 30 s for the partial; 40 s here so its own answer, not ours, ends a slow cancel.
    return this.request("POST", `/threads/${run.threadId}/runs/${run.runId}/cancel?wait=${wait ? 1 : 0}&action=${action}`, undefined, 40_000);
  }
}

export interface RunRef {
  threadId: string;
  runId: string;
}

/** The story model's pace, per run (`configurable.story_tokens` / `story_token_delay_ms`). */
export interface Story {
  tokens: number;
  delayMs: number;
}

function runBody(story: Story, text: string) {
  return {
    assistant_id: "story",
    input: { messages: [{ role: "user", content: text }] },
    // Joins use the run's modes: the subscribers get tokens and values, as a chat UI would.
    stream_mode: ["values", "messages-tuple"],
    multitask_strategy: "enqueue",
    config: { configurable: { story_tokens: story.tokens, story_token_delay_ms: story.delayMs } },
  };
}

/** The text of the last AI message of a values payload. */
export function lastAiText(values: any): string {
  const ai = (values?.messages ?? []).filter((m: any) => m.type === "ai");
  return ai.length ? String(ai[ai.length - 1].content) : "";
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `HH:MM:SS.mmm` (UTC), to line a fault up with journal ids and log lines. */
export const clock = (ms: number) => new Date(ms).toISOString().slice(11, 23);
