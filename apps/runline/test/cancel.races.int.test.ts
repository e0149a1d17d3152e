import { collectSse } from "@runline/testing";
import { cancel, newThread, slowStory, startLiveRun } from "./cancel-helpers";
import { lastAiText, startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("cancel-races");
});
afterAll(async () => {
  await t.close();
});

const finalValues = async (threadId: string, runId: string) => {
  const { frames } = await collectSse(`${t.url}/threads/${threadId}/runs/${runId}/stream?stream_mode=values`);
  expect(frames[frames.length - 1].event).toBe("end");
  return { values: frames.filter((f) => f.event === "values").pop()?.data, end: frames[frames.length - 1].data };
};

describe("cancel races", () => {
  it("a run cancelled while still queued ends interrupted without calling the model, and the active run is untouched", async () => {
    const threadId = await newThread(t);
    const active = await startLiveRun(t, threadId, "first");
    const queued = (await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("queued") })).body;
    expect(queued.status).toBe("pending");
    const res = await cancel(t, { threadId, runId: queued.run_id });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: "cancelled", status: "interrupted", partial: { token_count: 0, checkpoint_id: null } });
    expect(res.body.detail).toMatch(/before the model streamed anything/);
    const { end } = await finalValues(threadId, queued.run_id);
    expect(end.status).toBe("interrupted");

    await active.readToEnd();
    expect(active.frames[active.frames.length - 1].data.status).toBe("success");
    const state = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(state.values.messages.map((m: any) => m.content)).not.toContain("queued");
    expect((await t.api.get(`/threads/${threadId}`)).body.status).toBe("idle");
  });

  it("a stop followed at once by 'please continue' (enqueue): the new run starts only after the partial is saved, and sees it", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "story", { on_disconnect: "cancel" });
    await live.readTokens(6);
    live.stream.close(); // the browser's stop(): the connection drops, nothing else is sent
    const next = (await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("please continue the story") })).body;
    const { values } = await finalValues(threadId, next.run_id);
    const stopped = (await t.api.get(`/threads/${threadId}/runs/${live.runId}`)).body;
    expect(stopped.status).toBe("interrupted");
    expect(stopped.partial.token_count).toBeGreaterThanOrEqual(6);
    const partialMessage = values.messages[1];
    expect(partialMessage.id).toBe(stopped.partial.message_id);
    expect(partialMessage.content.split(" ").length).toBeGreaterThanOrEqual(6);
    expect(values.messages.map((m: any) => m.type)).toEqual(["human", "ai", "human", "ai"]);
    expect(lastAiText(values)).toContain(partialMessage.content.trim().split(/\s+/).slice(-5).join(" "));
  });

  it("a disconnect without on_disconnect=cancel leaves the run going (the default is continue)", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "story", { config: slowStory(15, 5) });
    await live.readTokens(3);
    live.stream.close();
    const { end } = await finalValues(threadId, live.runId);
    expect(end.status).toBe("success");
  });

  it("multitask_strategy=interrupt stops the active run with its partial saved, then runs the new one on top of it", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "story");
    await live.readTokens(5);
    const next = await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("please continue the story"), multitask_strategy: "interrupt" });
    expect(next.status).toBe(200);
    await live.readToEnd();
    expect(live.frames[live.frames.length - 1].data).toMatchObject({ status: "interrupted", partial: { token_count: live.tokens().length } });
    const { values } = await finalValues(threadId, next.body.run_id);
    expect(values.messages[1].content).toBe(live.streamedText());
    expect(lastAiText(values)).toContain("saw 3 messages");
  });

  it("multitask_strategy=rollback stops the active run, keeps its partial only as a branch, and runs the new one from the old head", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "story");
    await live.readTokens(5);
    const next = await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("something else"), multitask_strategy: "rollback" });
    await live.readToEnd();
    const stopped = live.frames[live.frames.length - 1].data;
    expect(stopped).toMatchObject({ status: "interrupted", partial: { action: "rollback" } });
    const { values } = await finalValues(threadId, next.body.run_id);
    expect(values.messages.map((m: any) => m.content).slice(0, 1)).toEqual(["something else"]);
    const branch = (await t.api.get(`/threads/${threadId}/state/${stopped.partial.checkpoint_id}`)).body;
    expect(branch.values.messages[1].content).toBe(live.streamedText());
  });

  it("the run limit ends a run as timeout with its partial saved the same way", async () => {
    const limited = await startTestRunline("cancel-timeout", { RUNLINE_RUN_TIMEOUT_MS: "400" });
    try {
      const threadId = await newThread(limited);
      const live = await startLiveRun(limited, threadId, "a story too long", { config: slowStory(200, 10) });
      await live.readToEnd();
      const end = live.frames[live.frames.length - 1].data;
      expect(end).toMatchObject({ status: "timeout", partial: { token_count: live.tokens().length } });
      expect(live.tokens().length).toBeGreaterThan(0);
      const state = (await limited.api.get(`/threads/${threadId}/state`)).body;
      expect(state.values.messages[1]).toMatchObject({ content: live.streamedText() });
      expect(state.values.messages[1].response_metadata.runline_partial.reason).toBe("timeout");
    } finally {
      await limited.close();
    }
  });
});
