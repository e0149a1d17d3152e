import { newThread, startLiveRun } from "./cancel-helpers";
import { startTestRunline, type TestRunline } from "./harness";

// Small enough that a 2000-token story crosses it early, large enough for the run's first events.
const MAX_OUTPUT_BYTES = 20_000;

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("quotas-output", { RUNLINE_RUN_MAX_OUTPUT_BYTES: String(MAX_OUTPUT_BYTES) });
});
afterAll(async () => {
  await t.close();
});

describe("output limit per run", () => {
  it("ends a run that writes more than the limit as error, with a clear error and its partial kept, like a timeout", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "a story far too long", { config: { configurable: { story_tokens: 2000, story_token_delay_ms: 0 } } });
    await live.readToEnd();
    const end = live.frames[live.frames.length - 1].data;
    expect(end).toMatchObject({
      status: "error",
      error: { error: "RunOutputLimitError", message: `run exceeded its output limit of ${MAX_OUTPUT_BYTES} bytes` },
      partial: { token_count: live.tokens().length },
    });
    // Stopped near the limit, far before the story's end.
    expect(live.tokens().length).toBeGreaterThan(0);
    expect(live.tokens().length).toBeLessThan(2000);
    const run = (await t.api.get(`/threads/${threadId}/runs/${end.run_id}`)).body;
    expect(run).toMatchObject({ status: "error", error: { error: "RunOutputLimitError" } });
    const state = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(state.values.messages[1]).toMatchObject({ content: live.streamedText() });
    expect(state.values.messages[1].response_metadata.runline_partial.reason).toBe("output_limit");
    // The thread is usable again: the next run starts from the kept partial.
    expect((await t.api.get(`/threads/${threadId}`)).body.status).not.toBe("busy");
  });
});
