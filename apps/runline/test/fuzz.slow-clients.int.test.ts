import net from "node:net";
import v8 from "node:v8";
import vm from "node:vm";
import { createJournalWriter } from "@runline/journal";
import { waitFor } from "@runline/testing";
import { startTestRunline, userInput, type TestRunline } from "./harness";

// The memory half of the hostile-client suite (issue #9): subscribers that read slowly or not at all must cost a
// bounded amount while they are connected, and the API must be back near where it started once they are gone.
// The figures go to bench/RESULTS.md ("Hostile input"), printed with RUNLINE_FUZZ_SUMMARY=1.
const ENTRIES = 5_000;
const CLIENTS_EACH = 10;
let t: TestRunline;
let path: string;

beforeAll(async () => {
  t = await startTestRunline("fuzz-slow-clients", { RUNLINE_SSE_SLOW_CLIENT_MS: "500" });
  const threadId = (await t.api.post("/threads", {})).body.thread_id;
  // A finished run's journal, written straight in (~50 MB of tokens, more than loopback socket buffers hide): what a late joiner replays.
  const runId = (await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("x"), stream_mode: ["messages-tuple"], after_seconds: 60 })).body.run_id;
  const journal = createJournalWriter(t.ns.redis, t.ns.redisPrefix);
  const chunk = { type: "AIMessageChunk", id: "run-long", content: "y".repeat(10_000) };
  for (let i = 0; i < ENTRIES; i++) void journal.append(runId, "messages", [chunk, { langgraph_node: "llm" }]);
  await journal.end(runId, { run_id: runId, status: "success" });
  path = `/threads/${threadId}/runs/${runId}/stream`;
}, 60_000);
afterAll(() => t.close());

const openStreams = async () => (await t.runline.metrics.sseSubscribers.get()).values[0]?.value ?? 0;

/**
 * A raw HTTP client of the stream. `pace` = null never reads after the request; a number reads one chunk of
 * what arrived every `pace` ms (a phone on a bad link), so its socket is full most of the time.
 */
function client(pace: number | null) {
  const url = new URL(t.url);
  const socket = net.connect(Number(url.port), url.hostname);
  const headers = Object.entries(t.api.headers).map(([k, v]) => `${k}: ${v}`);
  socket.write([`GET ${path} HTTP/1.1`, `Host: ${url.host}`, ...headers, "", ""].join("\r\n"));
  let tail = "";
  socket.on("data", (data) => (tail = (tail + data.toString()).slice(-4096)));
  socket.pause();
  socket.on("error", () => undefined);
  // Each tick lets exactly one chunk through; a tick that finds the last one still awaited does nothing.
  let awaiting = false;
  const tick = pace === null ? null : setInterval(() => {
    if (awaiting) return;
    awaiting = true;
    socket.once("data", () => {
      awaiting = false;
      socket.pause();
    });
    socket.resume();
  }, pace);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, closed, tick, tail: () => tail };
}

// A full GC before each reading, so garbage left by earlier work is not counted as what the subscribers hold.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const rssMb = () => process.memoryUsage().rss / 2 ** 20;
/** JS heap plus Buffers: what a subscriber's backlog occupies. RSS keeps its high-water mark, so it cannot show a peak. */
const liveMb = () => {
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
};

describe("slow and non-reading subscribers", () => {
  it("cost a bounded amount while connected, and RSS is back near its start after they are gone", async () => {
    // Warm up every code path once (a full read), so the baseline is not charged with first-use allocations.
    // It reads freely: a paced reader can itself be dropped as a slow client (500 ms here) when the machine is
    // busy, and then it never sees `end`.
    const warm = client(1);
    clearInterval(warm.tick!);
    warm.socket.resume();
    await waitFor(() => warm.tail().includes("event: end"), { timeoutMs: 20_000, what: "a full read" });
    warm.socket.destroy();
    clearInterval(warm.tick!);
    await waitFor(async () => (await openStreams()) === 0, { what: "the warm-up stream closed" });
    gc();
    const before = rssMb();
    const liveBefore = liveMb();

    const stalled = Array.from({ length: CLIENTS_EACH }, () => client(null));
    const slow = Array.from({ length: CLIENTS_EACH }, () => client(20));
    let peak = liveBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, liveMb())), 10);
    try {
      // Not all at once: the first stalled ones may be dropped before the last one is served its first page.
      let seen = 0;
      seen = await waitFor(async () => (seen = Math.max(seen, await openStreams())) > 0 && (await openStreams()) === 0 ? seen : false, { timeoutMs: 60_000, what: "the streams opened and ended" });
      // The server dropped the ones that do not read (their socket stayed full past RUNLINE_SSE_SLOW_CLIENT_MS);
      // the slow readers were served to the end or dropped the same way. Either way every stream ended.
      expect(seen).toBeGreaterThan(0);
    } finally {
      clearInterval(sampler);
      for (const c of [...stalled, ...slow]) {
        if (c.tick) clearInterval(c.tick);
        c.socket.destroy();
      }
    }
    await Promise.all([...stalled, ...slow].map((c) => c.closed));
    gc();
    const after = rssMb();
    const perSubscriberMb = (peak - liveBefore) / (2 * CLIENTS_EACH);
    if (process.env.RUNLINE_FUZZ_SUMMARY) {
      console.log(`slow-clients summary ${JSON.stringify({ clients: 2 * CLIENTS_EACH, rssBeforeMb: Math.round(before), rssAfterMb: Math.round(after), liveBeforeMb: Math.round(liveBefore), livePeakMb: Math.round(peak), perSubscriberMb: +perSubscriberMb.toFixed(2) })}`);
    }
    // Before #9 each subscriber buffered the whole journal (50 MB here, 15.8 MB in the run) and the API
    // kept it after they left. A bound per subscriber well under one journal, and growth after well under one
    // journal per client, fail on that behaviour while leaving room for the jest worker's own RSS noise.
    expect(perSubscriberMb).toBeLessThan(25);
    expect(after - before).toBeLessThan(150);
  });
});
