import { collectSse, openSse, type SseFrame } from "@runline/testing";
import { startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("runs-join");
});
afterAll(async () => {
  await t.close();
});

/** A background run slow enough to join mid-stream (30 tokens, 15 ms apart). */
async function startSlowRun(): Promise<{ threadId: string; runId: string }> {
  const thread = await t.api.post("/threads", {});
  const run = await t.api.post(`/threads/${thread.body.thread_id}/runs`, {
    assistant_id: "story",
    input: userInput("a slow story"),
    stream_mode: ["values", "messages-tuple"],
    config: { configurable: { story_tokens: 30, story_token_delay_ms: 15 } },
  });
  expect(run.status).toBe(200);
  return { threadId: thread.body.thread_id, runId: run.body.run_id };
}

async function readUntil(frames: AsyncIterator<SseFrame>, count: number): Promise<SseFrame[]> {
  const got: SseFrame[] = [];
  while (got.length < count) {
    const next = await frames.next();
    if (next.done) break;
    got.push(next.value);
  }
  return got;
}

describe("GET /threads/{tid}/runs/{rid}/stream", () => {
  it("a joiner mid-run and a reconnect with Last-Event-ID each get every event exactly once, in order", async () => {
    const { threadId, runId } = await startSlowRun();
    const path = `${t.url}/threads/${threadId}/runs/${runId}/stream`;

    // Reader A reads 8 events, drops the connection, and resumes from its last id.
    const a = await openSse(path);
    expect(a.status).toBe(200);
    const firstPart = await readUntil(a.frames, 8);
    a.close();
    // Reader B joins while the run is streaming (A has seen tokens, so the run is mid-way).
    expect(firstPart.some((f) => f.event === "messages")).toBe(true);
    const bPromise = collectSse(path);
    const resumed = await collectSse(path, { headers: { "Last-Event-ID": firstPart[firstPart.length - 1].id! } });
    const b = await bPromise;

    // After the end: the reference, read from the start with Last-Event-ID -1.
    const reference = await collectSse(path, { headers: { "Last-Event-ID": "-1" } });
    const refIds = reference.frames.map((f) => f.id);
    expect(reference.frames[0].event).toBe("metadata");
    expect(reference.frames.filter((f) => f.event === "messages")).toHaveLength(30);
    expect(reference.frames[reference.frames.length - 1]).toMatchObject({ event: "end", data: { status: "success" } });

    expect([...firstPart, ...resumed.frames].map((f) => f.id)).toEqual(refIds);
    expect(b.frames.map((f) => f.id)).toEqual(refIds);
    expect(new Set(refIds).size).toBe(refIds.length);
  });

  it("a join on a finished run returns at once with the whole journal", async () => {
    const { threadId, runId } = await startSlowRun();
    const path = `${t.url}/threads/${threadId}/runs/${runId}/stream`;
    await collectSse(path);
    const again = await collectSse(path);
    expect(again.frames[0].event).toBe("metadata");
    expect(again.frames[again.frames.length - 1].event).toBe("end");
  });

  it("filters events by the requested stream_mode (the SDK sends a JSON array)", async () => {
    const { threadId, runId } = await startSlowRun();
    const path = `${t.url}/threads/${threadId}/runs/${runId}/stream?stream_mode=${encodeURIComponent(JSON.stringify(["values"]))}`;
    const { frames } = await collectSse(path);
    expect(new Set(frames.map((f) => f.event))).toEqual(new Set(["metadata", "values", "end"]));
  });

  it("rejects a malformed Last-Event-ID with 4xx", async () => {
    const { threadId, runId } = await startSlowRun();
    const res = await fetch(`${t.url}/threads/${threadId}/runs/${runId}/stream`, { headers: { "Last-Event-ID": "not-an-id" } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await collectSse(`${t.url}/threads/${threadId}/runs/${runId}/stream`);
  });
});
