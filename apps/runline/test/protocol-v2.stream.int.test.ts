import { Client } from "@langchain/langgraph-sdk";
import { openSse } from "@runline/testing";
import { startTestRunline, type TestRunline } from "./harness";
import { ALL_CHANNELS, isTerminal, mintThreadId, openEvents, readUntil, startRun, streamedText } from "./protocol-v2-helpers";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("protocol-v2-stream");
});
afterAll(async () => {
  await t.close();
});

const slow = (tokens: number, delay: number) => ({ configurable: { story_tokens: tokens, story_token_delay_ms: delay } });

describe("protocol v2 event stream", () => {
  it("the SDK's client.threads.stream (v2) sends a run and streams its tokens to a completed lifecycle", async () => {
    const client = new Client({ apiUrl: t.url, streamProtocol: "v2" });
    const threadId = mintThreadId(t);
    const thread = client.threads.stream(threadId, { assistantId: "story" });
    try {
      const sub = await thread.subscribe({ channels: ["messages", "lifecycle", "values"] });
      await thread.run.start({ input: { messages: [{ role: "user", content: "tell me a story" }] }, config: slow(10, 2) });
      const events: any[] = [];
      for await (const event of sub as AsyncIterable<any>) {
        events.push(event);
        if (isTerminal(event)) break;
      }
      expect(events.filter((e) => e.method === "lifecycle").map((e) => e.params.data.event)).toEqual(["started", "running", "completed"]);
      const text = streamedText(events);
      expect(text).toContain("saw 1 messages");
      const last = events.filter((e) => e.method === "values").pop();
      expect(last.params.data.messages.at(-1)).toMatchObject({ type: "ai", content: text });
    } finally {
      await thread.close();
    }
  });

  it("a v2 subscriber and a classic joinStream subscriber on the same run see the same tokens", async () => {
    const threadId = mintThreadId(t);
    const { runId } = await startRun(t, threadId, "a story for two", { config: slow(30, 5) });
    const v2 = await openEvents(t, threadId, { channels: ["messages", "lifecycle"] });
    const classic = await openSse(`${t.url}/threads/${threadId}/runs/${runId}/stream?stream_mode=messages-tuple`, { headers: t.api.headers });
    const [v2Events, classicFrames] = await Promise.all([
      readUntil(v2, isTerminal),
      (async () => {
        const frames: any[] = [];
        for await (const frame of classic.frames) frames.push(frame);
        return frames;
      })(),
    ]);
    v2.close();
    const classicTokens = classicFrames.filter((f) => f.event === "messages").map((f) => f.data[0].content);
    const v2Tokens = v2Events.filter((e) => e.method === "messages" && e.params.data.event === "content-block-delta").map((e) => e.params.data.delta.text);
    expect(v2Tokens).toEqual(classicTokens);
    expect(v2Tokens.length).toBe(30);
  });

  it("a reconnect replays the latest run with identical event_id and seq; seq rises across runs; since is exclusive", async () => {
    const threadId = mintThreadId(t);
    const first = await openEvents(t, threadId);
    await startRun(t, threadId, "one");
    const a1 = await readUntil(first, isTerminal);
    // The same connection follows the thread's next run (it never closes at a run's end).
    const { runId: second, reply } = await startRun(t, threadId, "two");
    const a2 = await readUntil(first, (e) => isTerminal(e));
    first.close();
    expect(a2.every((e) => e.event_id.startsWith(`synth:${second}:`))).toBe(true);
    expect(a2[0].seq).toBeGreaterThan(reply.meta.applied_through_seq);
    expect(reply.meta.applied_through_seq).toBeGreaterThan(a1.at(-1).seq);
    const seen = [...a1, ...a2];
    for (let i = 1; i < seen.length; i++) expect(seen[i].seq).toBeGreaterThan(seen[i - 1].seq);

    // A new connection to a thread whose runs are all finished replays only the latest run: an earlier run's
    // terminal would settle a fresh page's submit() at once (its state comes from GET /state instead).
    const again = await openEvents(t, threadId);
    const replayed = await readUntil(again, isTerminal);
    again.close();
    expect(replayed.map((e) => [e.event_id, e.seq])).toEqual(a2.map((e) => [e.event_id, e.seq]));
    expect(new Set(replayed.map((e) => e.event_id)).size).toBe(replayed.length);

    const since = a1.at(-1).seq;
    const after = await openEvents(t, threadId, { channels: ALL_CHANNELS, since });
    const tail = await readUntil(after, isTerminal);
    after.close();
    expect(tail.map((e) => e.event_id)).toEqual(a2.map((e) => e.event_id));
  });

  it("filters by channel, namespace and depth on the server", async () => {
    const threadId = mintThreadId(t);
    await startRun(t, threadId, "filters");
    const stream = await openEvents(t, threadId, { channels: ["lifecycle", "input"], namespaces: [[]], depth: 0 });
    const events = await readUntil(stream, isTerminal);
    stream.close();
    expect(new Set(events.map((e) => e.method))).toEqual(new Set(["lifecycle"]));
    const bad = await t.api.request("POST", `/threads/${threadId}/stream/events`, { channels: ["nope"] });
    expect(bad.status).toBe(422);
    expect((await t.api.request("POST", `/threads/${threadId}/stream/events`, { channels: ["values"], extra: 1 })).status).toBe(422);
  });

  it("an idle connection stays open with heartbeat comments (the SDK counts them as liveness)", async () => {
    const controller = new AbortController();
    const res = await fetch(`${t.url}/threads/${mintThreadId(t)}/stream/events`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ channels: ["lifecycle"] }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = "";
    // The harness sets RUNLINE_HEARTBEAT_MS=1000; the jest timeout bounds the wait.
    while (!text.includes(": heartbeat")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream closed before a heartbeat: ${text}`);
      text += new TextDecoder().decode(value);
    }
    controller.abort();
  });
});
