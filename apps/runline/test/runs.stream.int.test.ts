import { collectSse } from "@runline/testing";
import { lastAiText, startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("runs-stream");
});
afterAll(async () => {
  await t.close();
});

async function newThread(): Promise<string> {
  const res = await t.api.post("/threads", { metadata: { purpose: "stream-test" } });
  expect(res.status).toBe(200);
  return res.body.thread_id;
}

describe("POST /threads/{tid}/runs/stream", () => {
  it("streams metadata first, message tuples in order, final values, and ends success with the AI message in state", async () => {
    const threadId = await newThread();
    const { status, headers, frames } = await collectSse(`${t.url}/threads/${threadId}/runs/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "story", input: userInput("tell me a story"), stream_mode: ["values", "messages-tuple", "updates"] }),
    });
    expect(status).toBe(200);
    expect(headers.get("content-type")).toMatch(/text\/event-stream/);
    const contentLocation = headers.get("content-location")!;
    expect(contentLocation).toMatch(new RegExp(`^/threads/${threadId}/runs/[0-9a-f-]+$`));
    expect(headers.get("location")).toBe(`${contentLocation}/stream`);
    const runId = contentLocation.split("/").pop();

    expect(frames[0]).toMatchObject({ event: "metadata", data: { run_id: runId, attempt: 1 } });
    const tokens = frames.filter((f) => f.event === "messages");
    expect(tokens).toHaveLength(20);
    const messageIds = new Set(tokens.map((f) => f.data[0].id));
    expect(messageIds.size).toBe(1);
    for (const f of tokens) expect(f.data[1]).toMatchObject({ langgraph_node: "llm", run_id: runId });
    const streamedText = tokens.map((f) => f.data[0].content).join("");

    const values = frames.filter((f) => f.event === "values");
    const finalValues = values[values.length - 1].data;
    expect(lastAiText(finalValues)).toBe(streamedText);
    expect(frames.some((f) => f.event === "updates" && f.data.llm)).toBe(true);
    expect(frames[frames.length - 1]).toMatchObject({ event: "end", data: { run_id: runId, status: "success" } });

    // ids are strictly increasing stream ids: what Last-Event-ID resumes from
    const ids = frames.map((f) => f.id!);
    expect(new Set(ids).size).toBe(ids.length);

    const run = await t.api.get(`/threads/${threadId}/runs/${runId}`);
    expect(run.body).toMatchObject({ run_id: runId, thread_id: threadId, status: "success" });
    const state = await t.api.get(`/threads/${threadId}/state`);
    expect(state.body.next).toEqual([]);
    expect(state.body.values.messages.map((m: any) => m.type)).toEqual(["human", "ai"]);
    expect(state.body.values.messages[1]).toMatchObject({ id: [...messageIds][0], content: streamedText });
    expect(state.body.checkpoint.checkpoint_id).toEqual(expect.any(String));
    const thread = await t.api.get(`/threads/${threadId}`);
    expect(thread.body).toMatchObject({ status: "idle", metadata: { purpose: "stream-test", graph_id: "story" } });
  });

  it("a second run on the thread sees the first run's messages", async () => {
    const threadId = await newThread();
    const first = await collectSse(`${t.url}/threads/${threadId}/runs/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "story", input: userInput("once"), stream_mode: "values" }),
    });
    const firstText = lastAiText(first.frames.filter((f) => f.event === "values").pop()!.data);
    const lastWords = firstText.split(/\s+/).slice(-5).join(" ");

    const second = await collectSse(`${t.url}/threads/${threadId}/runs/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "story", input: userInput("please continue the story"), stream_mode: "values" }),
    });
    const secondValues = second.frames.filter((f) => f.event === "values").pop()!.data;
    expect(secondValues.messages).toHaveLength(4);
    const secondText = lastAiText(secondValues);
    expect(secondText).toContain("saw 3 messages");
    expect(secondText).toContain(lastWords);
  });

  it("background runs finish and are listed newest first", async () => {
    const threadId = await newThread();
    const created = await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("bg") });
    expect(created.status).toBe(200);
    expect(created.headers.get("content-location")).toBe(`/threads/${threadId}/runs/${created.body.run_id}`);
    const joined = await collectSse(`${t.url}/threads/${threadId}/runs/${created.body.run_id}/stream`);
    expect(joined.frames.pop()).toMatchObject({ event: "end", data: { status: "success" } });
    const second = await t.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("bg2") });
    await collectSse(`${t.url}/threads/${threadId}/runs/${second.body.run_id}/stream`);
    const list = await t.api.get(`/threads/${threadId}/runs`);
    expect(list.body.map((r: any) => r.run_id)).toEqual([second.body.run_id, created.body.run_id]);
    expect(list.body.every((r: any) => r.status === "success")).toBe(true);
  });
});
