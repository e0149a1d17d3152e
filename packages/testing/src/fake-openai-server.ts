import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local OpenAI-compatible Chat Completions server for tests: the model boundary, faked over real HTTP so
 * `ChatOpenAI` runs its own client, SSE parser and abort handling. Each request takes the next script from the
 * queue (or the default one). It records every request and when each one's socket closed, so a test can prove
 * that a cancel reached the provider.
 */

/** One streamed tool call: sent as a first delta with id and name, then `args` in `argChunks` pieces. */
export interface ScriptToolCall {
  id: string;
  name: string;
  args: string;
  /** How many deltas `args` is cut into. @defaultValue 1 */
  argChunks?: number;
}

/** What the server answers to one request. */
export type FakeReply =
  | {
      kind: "stream";
      /** Content deltas, one chunk each. */
      tokens?: string[];
      /** Pause before each chunk, in ms. @defaultValue 0 */
      delayMs?: number;
      toolCalls?: ScriptToolCall[];
      /** Stop before the end: after this many chunks (content and tool deltas counted together), send nothing more and keep the socket open. */
      stallAfter?: number;
      /** Send everything (finish reason, usage) but `[DONE]`, then keep the socket open. */
      stallBeforeDone?: boolean;
      /** While stalled, write an SSE comment (`: ping`) this often, as some providers do: bytes, but no data. */
      keepAliveMs?: number;
      /** Write a line that is not JSON after this many chunks, then end the stream. */
      malformedAfter?: number;
      /** @defaultValue "stop", or "tool_calls" when toolCalls are given */
      finishReason?: string;
      usage?: { prompt_tokens: number; completion_tokens: number };
    }
  | { kind: "status"; status: number; retryAfterSeconds?: number; message?: string }
  /** Accept the request and never send a byte (not even headers). */
  | { kind: "silent" };

export interface RecordedRequest {
  index: number;
  body: any;
  receivedAt: number;
  /** `performance.now()` when the server saw the socket close (null while open). */
  closedAt: number | null;
  /** The server had not finished its reply when the socket closed: the client hung up. */
  clientClosed: boolean;
  /** Chunks written before the close. */
  chunksSent: number;
  closed: Promise<void>;
}

export interface FakeOpenAIServer {
  /** `http://127.0.0.1:<port>/v1`, for `OPENAI_BASE_URL`. */
  baseURL: string;
  requests: RecordedRequest[];
  /** Replies used in order by the next requests; afterwards `defaultReply`. */
  enqueue(...replies: FakeReply[]): void;
  defaultReply: FakeReply;
  close(): Promise<void>;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the server on a free loopback port. */
export async function startFakeOpenAIServer(defaultReply: FakeReply = { kind: "stream", tokens: ["Hello", " world"] }): Promise<FakeOpenAIServer> {
  const queue: FakeReply[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const fake: FakeOpenAIServer = {
    baseURL: "",
    requests,
    defaultReply,
    enqueue: (...replies) => void queue.push(...replies),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    void handle(req, res, queue.shift() ?? fake.defaultReply, requests);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}

async function handle(req: IncomingMessage, res: ServerResponse, reply: FakeReply, requests: RecordedRequest[]): Promise<void> {
  const raw = await readBody(req);
  let resolveClosed!: () => void;
  const rec: RecordedRequest = {
    index: requests.length,
    body: safeJson(raw),
    receivedAt: performance.now(),
    closedAt: null,
    clientClosed: false,
    chunksSent: 0,
    closed: new Promise((r) => (resolveClosed = r)),
  };
  requests.push(rec);
  // `close` on the response fires when the underlying socket closes or the response finished.
  res.on("close", () => {
    rec.closedAt = performance.now();
    rec.clientClosed = !res.writableFinished;
    resolveClosed();
  });
  if (reply.kind === "silent") return;
  if (reply.kind === "status") {
    res.writeHead(reply.status, { "content-type": "application/json", ...(reply.retryAfterSeconds !== undefined ? { "retry-after": String(reply.retryAfterSeconds) } : {}) });
    res.end(JSON.stringify({ error: { message: reply.message ?? `fake status ${reply.status}`, type: "fake_error", code: reply.status } }));
    return;
  }
  await streamReply(res, reply, rec);
}

async function streamReply(res: ServerResponse, reply: Extract<FakeReply, { kind: "stream" }>, rec: RecordedRequest): Promise<void> {
  const id = `chatcmpl-fake-${rec.index}-${Math.random().toString(36).slice(2, 8)}`;
  const model = String(rec.body?.model ?? "fake-model");
  const base = { id, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model };
  const deltas = buildDeltas(reply);
  const finish = reply.finishReason ?? (reply.toolCalls?.length ? "tool_calls" : "stop");
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
  for (let i = 0; i < deltas.length; i++) {
    if (res.destroyed) return;
    if (reply.stallAfter === i) return keepAlive(res, reply.keepAliveMs); // keep the socket open, send no data
    if (reply.malformedAfter === i) {
      res.end(`data: {"id": "${id}", "choices": [{"delta": {"content": "bro\n\n`);
      return;
    }
    if (reply.delayMs) await delay(reply.delayMs);
    if (res.destroyed) return;
    send({ ...base, choices: [{ index: 0, delta: deltas[i], logprobs: null, finish_reason: null }] });
    rec.chunksSent++;
  }
  send({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finish }] });
  if (rec.body?.stream_options?.include_usage) {
    const usage = reply.usage ?? { prompt_tokens: 10, completion_tokens: deltas.length };
    send({ ...base, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
  }
  if (reply.stallBeforeDone) return keepAlive(res, reply.keepAliveMs);
  res.end("data: [DONE]\n\n");
}

function keepAlive(res: ServerResponse, everyMs: number | undefined): void {
  if (!everyMs) return;
  const timer = setInterval(() => res.write(": ping\n\n"), everyMs);
  res.on("close", () => clearInterval(timer));
}

/** The deltas of a streamed reply, in wire order: the role first, then content, then each tool call. */
function buildDeltas(reply: Extract<FakeReply, { kind: "stream" }>): Record<string, unknown>[] {
  const tokens = reply.tokens ?? [];
  const deltas: Record<string, unknown>[] = tokens.map((t, i) => (i === 0 ? { role: "assistant", content: t } : { content: t }));
  if (!deltas.length) deltas.push({ role: "assistant", content: "" });
  (reply.toolCalls ?? []).forEach((call, index) => {
    deltas.push({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] });
    const n = Math.max(1, call.argChunks ?? 1);
    const size = Math.ceil(call.args.length / n);
    for (let k = 0; k < n; k++) deltas.push({ tool_calls: [{ index, function: { arguments: call.args.slice(k * size, (k + 1) * size) } }] });
  });
  return deltas;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (data += c));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
