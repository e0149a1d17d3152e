import { collectSse } from "@runline/testing";
import { lastAiText, startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("threads-fork");
});
afterAll(async () => {
  await t.close();
});

async function streamRun(threadId: string, body: Record<string, unknown>) {
  const { frames } = await collectSse(`${t.url}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ assistant_id: "story", stream_mode: "values", ...body }),
  });
  expect(frames[frames.length - 1]).toMatchObject({ event: "end", data: { status: "success" } });
  return frames.filter((f) => f.event === "values").pop()!.data;
}

describe("forking from a checkpoint", () => {
  it("creates sibling branches from one checkpoint, each keeping its own messages, visible in history", async () => {
    const threadId = (await t.api.post("/threads", {})).body.thread_id;
    await streamRun(threadId, { input: userInput("first") });
    const afterFirst = (await t.api.get(`/threads/${threadId}/state`)).body;
    await streamRun(threadId, { input: userInput("second-main") });

    // Fork twice from the checkpoint after the first exchange: once via checkpoint_id, once via checkpoint.
    const left = await streamRun(threadId, { input: userInput("left"), checkpoint_id: afterFirst.checkpoint.checkpoint_id });
    const right = await streamRun(threadId, { input: userInput("right"), checkpoint: { checkpoint_id: afterFirst.checkpoint.checkpoint_id } });
    expect(left.messages.map((m: any) => m.content).slice(0, 3)).toEqual(["first", expect.any(String), "left"]);
    expect(right.messages.map((m: any) => m.content).slice(0, 3)).toEqual(["first", expect.any(String), "right"]);
    expect(lastAiText(right)).toContain("saw 3 messages");

    const history = (await t.api.post(`/threads/${threadId}/history`, { limit: 100 })).body;
    const children = history.filter((s: any) => s.parent_checkpoint?.checkpoint_id === afterFirst.checkpoint.checkpoint_id);
    // three branches start there: the main line's second run, and the two forks
    expect(children).toHaveLength(3);
    // Following each child down to its branch tip gives the three different conversations.
    const byParent = new Map<string, any[]>();
    for (const s of history) {
      const parent = s.parent_checkpoint?.checkpoint_id;
      if (parent) byParent.set(parent, [...(byParent.get(parent) ?? []), s]);
    }
    const tipOf = (s: any): any => (byParent.get(s.checkpoint.checkpoint_id) ?? []).reduce((_: any, c: any) => tipOf(c), s);
    const tips = children.map(tipOf);
    expect(tips.map((tip: any) => tip.values.messages[2].content).sort()).toEqual(["left", "right", "second-main"]);
    for (const tip of tips) expect(tip.values.messages).toHaveLength(4);

    // Each branch tip still holds its own conversation when read back at its checkpoint.
    for (const tip of history.filter((s: any) => s.next.length === 0 && s.values.messages.length === 4)) {
      const atCheckpoint = (await t.api.get(`/threads/${threadId}/state/${tip.checkpoint.checkpoint_id}`)).body;
      expect(atCheckpoint.values).toEqual(tip.values);
    }
    // The thread head is the newest branch: the right fork.
    const head = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(head.values.messages[2].content).toBe("right");
    // newest first
    const times = history.map((s: any) => s.checkpoint.checkpoint_id);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it("answers 404 for a checkpoint that is not in the thread, and starts no run", async () => {
    const threadId = (await t.api.post("/threads", {})).body.thread_id;
    const res = await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("x"), checkpoint_id: "1f000000-0000-6000-8000-000000000000" });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("CHECKPOINT_NOT_FOUND");
    expect((await t.api.get(`/threads/${threadId}/runs`)).body).toEqual([]);
  });
});
