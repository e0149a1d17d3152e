import type { FakeReply } from "@runline/testing";
import { newThread, startLiveRun } from "./cancel-helpers";
import { useModelHttpRig, words } from "./model-http/model-http-helpers";

// RUNLINE_MODEL_MAX_RETRIES=1 and RUNLINE_MODEL_IDLE_TIMEOUT_MS=800 (see startModelHttpRig).
const rig = useModelHttpRig("model-http-failures");

/** Runs one story against the scripted replies; returns the run's end event, its frames and the requests it caused. */
async function runAgainst(...replies: FakeReply[]) {
  const before = rig.fake.requests.length;
  rig.fake.enqueue(...replies);
  const threadId = await newThread(rig.t);
  const live = await startLiveRun(rig.t, threadId, "hello");
  const frames = await live.readToEnd();
  const end = frames.find((f) => f.event === "end")!;
  const state = (await rig.t.api.get(`/threads/${threadId}/state`)).body;
  return { end: end.data, frames, live, state, requests: rig.fake.requests.slice(before) };
}

describe("provider failures end the run with a clear error, the partial saved, and no retry storm", () => {
  it("429 with retry-after: one retry after the hinted wait, then error", async () => {
    const r = await runAgainst({ kind: "status", status: 429, retryAfterSeconds: 1, message: "Rate limit reached" }, { kind: "status", status: 429, retryAfterSeconds: 1, message: "Rate limit reached" });
    expect(r.requests).toHaveLength(2);
    // The client honoured retry-after (a lower bound: a retry cannot come before the hint).
    expect(r.requests[1].receivedAt - r.requests[0].receivedAt).toBeGreaterThanOrEqual(950);
    expect(r.end).toMatchObject({ status: "error", partial: null });
    expect(r.end.error.message).toMatch(/429/);
    expect(r.frames.filter((f) => f.event === "error")).toHaveLength(1);
  });

  it("500: retried once, then error; nothing streamed, nothing saved", async () => {
    const r = await runAgainst({ kind: "status", status: 500 }, { kind: "status", status: 500 });
    expect(r.requests).toHaveLength(2);
    expect(r.end).toMatchObject({ status: "error", partial: null });
    expect(r.end.error.message).toMatch(/500/);
    expect(r.state.values.messages.map((m: any) => m.type)).toEqual(["human"]);
  });

  it("a malformed chunk mid-stream: no retry (tokens already reached subscribers), the partial saved", async () => {
    const r = await runAgainst({ kind: "stream", tokens: words(6), malformedAfter: 4 });
    expect(r.requests).toHaveLength(1);
    expect(r.end.status).toBe("error");
    expect(r.end.error.message).toMatch(/JSON|Unexpected|Unterminated/i);
    expect(r.live.streamedText()).toBe(words(4).join(""));
    const saved = r.state.values.messages.at(-1);
    expect(saved).toMatchObject({ type: "ai", content: words(4).join(""), response_metadata: { finish_reason: "cancelled", runline_partial: { reason: "error" } } });
    expect(r.end.partial).toMatchObject({ message_id: saved.id, token_count: 4 });
  });

  it("a stream that stalls with no bytes: the idle timeout closes it, the partial saved", async () => {
    const r = await runAgainst({ kind: "stream", tokens: words(6), stallAfter: 3 });
    expect(r.requests).toHaveLength(1);
    await r.requests[0].closed;
    expect(r.requests[0].clientClosed).toBe(true);
    expect(r.end.error).toEqual({ error: "ModelIdleTimeoutError", message: expect.stringContaining("RUNLINE_MODEL_IDLE_TIMEOUT_MS") });
    expect(r.state.values.messages.at(-1)).toMatchObject({ content: words(3).join(""), response_metadata: { runline_partial: { reason: "error" } } });
  });

  it("a provider that never answers (no headers): the idle timeout ends the run, nothing to save", async () => {
    const r = await runAgainst({ kind: "silent" }, { kind: "silent" });
    // Before the headers, the OpenAI client replaces our error with its own timeout (LangChain renames it).
    expect(r.end).toMatchObject({ status: "error", partial: null, error: { error: "TimeoutError" } });
    // A timeout before any byte is a failed request: it gets the one retry, no more.
    expect(r.requests.length).toBeLessThanOrEqual(2);
    await Promise.all(r.requests.map((q) => q.closed));
  });
});
