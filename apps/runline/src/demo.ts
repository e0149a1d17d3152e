/**
 * The newcomer's tour, run by `npm start`: a long story streams, is stopped midway, the saved partial is shown,
 * "please continue the story" continues from it, and a second branch grows from the stop point. Everything goes
 * over Runline's public HTTP API, exactly as a client would do it.
 */
export interface DemoOptions {
  baseUrl: string;
  apiKey?: string;
  /** Where the tour is written (stdout in `npm start`). */
  write: (text: string) => void;
  /** Tokens to let through before pressing stop. @defaultValue 40 */
  stopAfterTokens?: number;
  /** Pace of the built-in story model for the tour. @defaultValue 30 ms */
  tokenDelayMs?: number;
}

export interface DemoResult {
  threadId: string;
  stoppedRunId: string;
  partial: { message_id: string; token_count: number; checkpoint_id: string; parent_checkpoint_id: string };
  continuation: string;
  branchCheckpointIds: string[];
}

interface Frame {
  event: string;
  data: any;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { baseUrl, write } = options;
  const stopAfter = options.stopAfterTokens ?? 40;
  const pace = { configurable: { story_tokens: 400, story_token_delay_ms: options.tokenDelayMs ?? 30 } };
  const headers: Record<string, string> = { "content-type": "application/json", ...(options.apiKey ? { "x-api-key": options.apiKey } : {}) };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
    return res.status === 204 ? null : res.json();
  };
  const heading = (text: string) => write(`\n\x1b[1m── ${text}\x1b[0m\n`);

  heading("1. A long story starts streaming");
  const thread = await call("POST", "/threads", { metadata: { demo: true } });
  write(`thread ${thread.thread_id}\n\n`);
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/threads/${thread.thread_id}/runs/stream`, {
    method: "POST",
    headers,
    signal: controller.signal,
    body: JSON.stringify({ assistant_id: "story", input: userMessage("Tell me a long story about a lighthouse keeper."), stream_mode: ["messages-tuple"], config: pace }),
  });
  const runId = response.headers.get("content-location")!.split("/").pop()!;
  let tokens = 0;
  let cancelAnswer: any = null;
  let cancelMs = 0;
  for await (const frame of readFrames(response)) {
    if (frame.event === "messages") {
      tokens++;
      write(frame.data[0].content);
      if (tokens === stopAfter && !cancelAnswer) {
        const started = performance.now();
        // Pressing stop: the answer comes only once the partial is committed to the thread.
        cancelAnswer = await call("POST", `/threads/${thread.thread_id}/runs/${runId}/cancel?wait=1&action=interrupt`);
        cancelMs = performance.now() - started;
      }
    }
    if (frame.event === "end") break;
  }
  const partial = cancelAnswer.partial;
  heading(`2. Stop pressed after ${tokens} tokens (cancel answered in ${cancelMs.toFixed(1)} ms)`);
  write(`${cancelAnswer.detail}\n`);
  write(`run ${runId}: ${cancelAnswer.status}; partial checkpoint ${partial.checkpoint_id} (parent ${partial.parent_checkpoint_id})\n`);

  heading("3. What the thread holds now (GET /threads/{id}/state)");
  const state = await call("GET", `/threads/${thread.thread_id}/state`);
  const saved = state.values.messages[state.values.messages.length - 1];
  write(`last message (${saved.type}, id ${saved.id}, ${saved.response_metadata.runline_partial.token_count} tokens, marked cancelled):\n"${saved.content.trim()}"\n`);

  heading('4. "please continue the story" on the same thread');
  const continuation = await streamText(baseUrl, headers, thread.thread_id, {
    assistant_id: "story",
    input: userMessage("please continue the story"),
    stream_mode: ["messages-tuple"],
    config: { configurable: { story_tokens: 40, story_token_delay_ms: 10 } },
  }, write);

  heading("5. Another branch from the stop point (checkpoint_id = the partial's checkpoint)");
  await streamText(baseUrl, headers, thread.thread_id, {
    assistant_id: "story",
    input: userMessage("continue it as a poem instead"),
    checkpoint_id: partial.checkpoint_id,
    stream_mode: ["messages-tuple"],
    config: { configurable: { story_tokens: 25, story_token_delay_ms: 10 } },
  }, write);

  heading("6. Branches (POST /threads/{id}/history)");
  const history: any[] = await call("POST", `/threads/${thread.thread_id}/history`, { limit: 100 });
  const branches = history.filter((s) => s.parent_checkpoint?.checkpoint_id === partial.checkpoint_id);
  write(`${history.length} checkpoints; ${branches.length} branches grow from the stop point ${partial.checkpoint_id}:\n`);
  for (const b of branches) write(`  • ${b.checkpoint.checkpoint_id}\n`);
  write(`Fork from any of them: POST /threads/${thread.thread_id}/runs {"checkpoint_id": "<id>", ...}\n\n`);
  return { threadId: thread.thread_id, stoppedRunId: runId, partial, continuation, branchCheckpointIds: branches.map((b) => b.checkpoint.checkpoint_id) };
}

function userMessage(text: string) {
  return { messages: [{ role: "user", content: text }] };
}

async function streamText(baseUrl: string, headers: Record<string, string>, threadId: string, body: unknown, write: (t: string) => void): Promise<string> {
  const response = await fetch(`${baseUrl}/threads/${threadId}/runs/stream`, { method: "POST", headers, body: JSON.stringify(body) });
  let text = "";
  for await (const frame of readFrames(response)) {
    if (frame.event === "messages") {
      text += frame.data[0].content;
      write(frame.data[0].content);
    }
    if (frame.event === "end") break;
  }
  write("\n");
  return text;
}

async function* readFrames(response: Response): AsyncGenerator<Frame> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let sep: number;
    while ((sep = buffer.indexOf("\n\n")) >= 0) {
      const raw = buffer.slice(0, sep);
      buffer = buffer.slice(sep + 2);
      const event = /^event: (.*)$/m.exec(raw)?.[1];
      const data = /^data: (.*)$/m.exec(raw)?.[1];
      if (event && data) yield { event, data: JSON.parse(data) };
    }
  }
}
