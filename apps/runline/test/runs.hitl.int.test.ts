import { collectSse } from "@runline/testing";
import { newThread } from "./cancel-helpers";
import { lastAiText, startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("runs-hitl");
});
afterAll(async () => {
  await t.close();
});

const quick = { configurable: { story_tokens: 4, story_token_delay_ms: 0 } };

async function run(threadId: string, body: Record<string, unknown>) {
  const { frames } = await collectSse(`${t.url}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ assistant_id: "story", config: quick, stream_mode: ["values", "updates"], ...body }),
  });
  return frames;
}

describe("human in the loop", () => {
  it("interrupt_before pauses before the node (thread interrupted); a run with input null resumes it", async () => {
    const threadId = await newThread(t);
    const paused = await run(threadId, { input: userInput("wait first"), interrupt_before: ["llm"] });
    expect(paused[paused.length - 1].data.status).toBe("success");
    expect((await t.api.get(`/threads/${threadId}`)).body.status).toBe("interrupted");
    const state = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(state.next).toEqual(["llm"]);
    expect(state.values.messages).toHaveLength(1);

    const resumed = await run(threadId, { input: null });
    expect(resumed[resumed.length - 1].data.status).toBe("success");
    const after = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(after.values.messages.map((m: any) => m.type)).toEqual(["human", "ai"]);
    expect(lastAiText(after.values)).toContain("saw 1 messages");
    expect((await t.api.get(`/threads/${threadId}`)).body.status).toBe("idle");
  });
});
