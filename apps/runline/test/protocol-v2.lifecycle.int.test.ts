import { startTestRunline, type TestRunline } from "./harness";
import { isTerminal, mintThreadId, openEvents, readUntil, startRun } from "./protocol-v2-helpers";

let t: TestRunline;
beforeAll(async () => {
  // Runs longer than 400 ms end as `timeout`, with what they streamed kept.
  t = await startTestRunline("protocol-v2-lifecycle", { RUNLINE_RUN_TIMEOUT_MS: "400" });
});
afterAll(async () => {
  await t.close();
});

describe("protocol v2 lifecycle and numbering", () => {
  it("a run that times out ends with one failed lifecycle, its message finished as partial", async () => {
    const threadId = mintThreadId(t);
    const stream = await openEvents(t, threadId, { channels: ["lifecycle", "messages"] });
    await startRun(t, threadId, "a story too long", { config: { configurable: { story_tokens: 400, story_token_delay_ms: 10 } } });
    const events = await readUntil(stream, isTerminal);
    stream.close();
    expect(events.filter(isTerminal).map((e) => e.params.data)).toEqual([{ event: "failed", graph_name: "story", error: expect.any(String) }]);
    const finish = events.filter((e) => e.method === "messages" && e.params.data.event === "message-finish");
    expect(finish.map((e) => e.params.data.partial)).toEqual([true]);
  });

  it("another Runline instance (its own API, journal hub and worker) numbers the thread's events exactly the same (event_id, seq, timestamp)", async () => {
    const threadId = mintThreadId(t);
    const stream = await openEvents(t, threadId);
    await startRun(t, threadId, "one");
    const here = await readUntil(stream, isTerminal);
    stream.close();
    const other = await startTestRunline("protocol-v2-lifecycle", { RUNLINE_RUN_TIMEOUT_MS: "400" }, t.ns);
    try {
      const there = await openEvents(other, threadId);
      const replayed = await readUntil(there, isTerminal);
      there.close();
      const key = (e: any) => [e.event_id, e.seq, e.params.timestamp, e.method];
      expect(replayed.map(key)).toEqual(here.map(key));
    } finally {
      await other.close();
    }
  });
});
