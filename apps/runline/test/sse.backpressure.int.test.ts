import net from "node:net";
import { createJournalWriter } from "@runline/journal";
import { collectSse, waitFor } from "@runline/testing";
import { startTestRunline, userInput, type TestRunline } from "./harness";

// Clients that do not read: SSE must stop pulling from the journal while their socket is full, and drop
// them after RUNLINE_SSE_SLOW_CLIENT_MS, instead of buffering the whole run for each of them.
const ENTRIES = 6_000;
let t: TestRunline;
let threadId: string;
let runId: string;

beforeAll(async () => {
  // Long enough that all 20 streams are open at once before the first is dropped, even on a loaded machine.
  t = await startTestRunline("sse-backpressure", { RUNLINE_SSE_SLOW_CLIENT_MS: "4000" });
  threadId = (await t.api.post("/threads", {})).body.thread_id;
  // A run that waits a minute in the queue, with a long journal written straight into it: ~60 MB of events,
  // more than the kernel's socket buffers can hide (loopback receive buffers grow to 32 MB here).
  runId = (await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("long"), stream_mode: ["messages-tuple"], after_seconds: 60 })).body.run_id;
  const journal = createJournalWriter(t.ns.redis, t.ns.redisPrefix);
  const chunk = { type: "AIMessageChunk", id: "run-long", content: "x".repeat(10_000) };
  for (let i = 0; i < ENTRIES; i++) void journal.append(runId, "messages", [chunk, { langgraph_node: "llm" }]);
  await journal.end(runId, { run_id: runId, status: "success" });
}, 60_000);
afterAll(() => t.close());

const openStreams = async () => (await t.runline.metrics.sseSubscribers.get()).values[0]?.value ?? 0;

/** An HTTP client that sends the request and then reads nothing until `resume()`. */
function stalledClient(path: string, headers: Record<string, string> = {}) {
  const url = new URL(t.url);
  const socket = net.connect(Number(url.port), url.hostname);
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${url.host}`, ...Object.entries({ ...t.api.headers, ...headers }).map(([k, v]) => `${k}: ${v}`), "", ""];
  socket.write(lines.join("\r\n"));
  let text = "";
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("data", (chunk) => (text += chunk.toString()));
  // After the 'data' listener (adding one would switch the socket back to flowing): from here it reads nothing.
  socket.pause();
  socket.on("error", () => undefined);
  return {
    socket,
    closed,
    resume() {
      socket.resume();
    },
    text: () => text,
  };
}

describe("SSE to clients that do not read", () => {
  it("holds a bounded amount per client, however long the run, and drops the ones that do not read", async () => {
    const path = `/threads/${threadId}/runs/${runId}/stream`;
    const before = process.memoryUsage().rss;
    const clients = Array.from({ length: 20 }, () => stalledClient(path));
    await waitFor(async () => (await openStreams()) === 20, { what: "20 streams open" });
    // Every client is served what its socket takes, then dropped as too slow: the server closes the stream.
    await waitFor(async () => (await openStreams()) === 0, { what: "the stalled streams dropped", timeoutMs: 30_000 });
    const grownMb = (process.memoryUsage().rss - before) / 2 ** 20;
    // Buffering the journal for each would cost 20 × ~60 MB = 1.2 GB. Measured alone: ~70 MB, mostly the
    // 500-entry backlog page each client has in flight; RSS is shared with the rest of this jest worker, so the
    // bound leaves room for that and still fails at a fraction of the old cost.
    expect(grownMb).toBeLessThan(400);
    for (const c of clients) c.socket.destroy();
  });

  it("a dropped client loses nothing: it reconnects with its Last-Event-ID and gets the rest, once", async () => {
    const path = `/threads/${threadId}/runs/${runId}/stream`;
    const client = stalledClient(path);
    await waitFor(async () => (await openStreams()) === 1, { what: "stream open" });
    await waitFor(async () => (await openStreams()) === 0, { what: "stream dropped", timeoutMs: 30_000 });
    client.resume();
    await client.closed;
    const ids = [...client.text().matchAll(/^id: (\S+)$/gm)].map((m) => m[1]);
    // Only whole frames count: the last one may have been cut by the close.
    const complete = client.text().lastIndexOf("\n\n");
    const lastWhole = [...client.text().slice(0, complete).matchAll(/^id: (\S+)$/gm)].map((m) => m[1]).pop()!;
    expect(ids.length).toBeGreaterThan(0);
    expect(client.text()).not.toContain("event: end");
    const rest = await collectSse(`${t.url}${path}`, { headers: { ...t.api.headers, "last-event-id": lastWhole } });
    const seen = [...ids.slice(0, ids.indexOf(lastWhole) + 1), ...rest.frames.map((f) => f.id!)];
    expect(new Set(seen).size).toBe(seen.length);
    expect(rest.frames[rest.frames.length - 1].event).toBe("end");
    const all = await collectSse(`${t.url}${path}`, { headers: t.api.headers });
    expect(seen).toEqual(all.frames.map((f) => f.id));
  });
});
