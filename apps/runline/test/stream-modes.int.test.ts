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

  it("legacy messages mode: metadata once, accumulated partials, then complete; a resume mid-message keeps accumulating", async () => {
    const { frames } = await streamWith(["messages"]);
    const partials = frames.filter((f) => f.event === "messages/partial");
    expect(partials).toHaveLength(3);
    expect(frames.filter((f) => f.event === "messages/metadata")).toHaveLength(1);
    const final = partials[2].data[0];
    // accumulated, not deltas: each partial extends the one before
    for (let i = 1; i < partials.length; i++) {
      expect(partials[i].data[0].content.startsWith(partials[i - 1].data[0].content)).toBe(true);
      expect(partials[i].data[0].content.length).toBeGreaterThan(partials[i - 1].data[0].content.length);
    }
    const complete = frames.filter((f) => f.event === "messages/complete").flatMap((f) => f.data);
    expect(complete.find((m: any) => m.type === "ai").content).toBe(final.content);
    expect(frames.some((f) => f.event === "messages")).toBe(false);

    const runId = frames[0].data.run_id;
    const threadId = frames[0].data.thread_id;
    const resumed = await collectSse(`${t.url}/threads/${threadId}/runs/${runId}/stream?stream_mode=messages`, {
      headers: { "Last-Event-ID": partials[0].id! },
    });
    const resumedPartials = resumed.frames.filter((f) => f.event === "messages/partial");
    expect(resumedPartials.map((f) => f.data[0].content)).toEqual(partials.slice(1).map((f) => f.data[0].content));
  });

  it("unsupported modes are refused with 422 naming them", async () => {
    const threadId = await newThread(t);
    const res = await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", stream_mode: ["events"] });
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/events/);
  });
});
