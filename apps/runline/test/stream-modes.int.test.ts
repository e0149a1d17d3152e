import { collectSse } from "@runline/testing";
import { newThread } from "./cancel-helpers";
import { startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("stream-modes");
});
afterAll(async () => {
  await t.close();
});

async function streamWith(modes: string[]) {
  const threadId = await newThread(t);
  return collectSse(`${t.url}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ assistant_id: "story", input: userInput("modes"), stream_mode: modes, config: { configurable: { story_tokens: 3, story_token_delay_ms: 0 } } }),
  });
}

describe("stream modes", () => {
  it("updates gives each node's output", async () => {
    const { frames } = await streamWith(["updates"]);
    expect(new Set(frames.map((f) => f.event))).toEqual(new Set(["metadata", "updates", "end"]));
    expect(frames.find((f) => f.event === "updates" && f.data.llm)!.data.llm.messages[0].type).toBe("ai");
  });

  it("checkpoints, tasks and debug are journalled when asked for", async () => {
    const { frames } = await streamWith(["checkpoints", "tasks", "debug"]);
    const events = new Set(frames.map((f) => f.event));
    expect(events).toEqual(new Set(["metadata", "checkpoints", "tasks", "debug", "end"]));
    const checkpoint = frames.filter((f) => f.event === "checkpoints").pop()!.data;
    expect(checkpoint.values.messages.map((m: any) => m.type)).toEqual(["human", "ai"]);
    expect(frames.some((f) => f.event === "tasks" && f.data.name === "llm")).toBe(true);
    expect(frames.some((f) => f.event === "debug" && f.data.type === "checkpoint")).toBe(true);
  });

  it("unsupported modes are refused with 422 naming them", async () => {
    const threadId = await newThread(t);
    const res = await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", stream_mode: ["events"] });
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/events/);
  });
});
