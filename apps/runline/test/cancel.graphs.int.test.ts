import path from "node:path";
import { cancel, newThread, startLiveRun } from "./cancel-helpers";
import { startTestRunline, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("cancel-graphs", { RUNLINE_CONFIG: path.join(__dirname, "fixtures/runline.test.json") });
});
afterAll(async () => {
  await t.close();
});

describe("cancel on any graph that streams chat-model messages", () => {
  it("saves the partial as the node that was streaming, after the nodes that had finished", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "write me something", { assistant_id: "two_step" });
    await live.readTokens(6);
    const res = await cancel(t, live);
    expect(res.body).toMatchObject({ outcome: "cancelled", status: "interrupted" });
    await live.readToEnd();
    // LangGraph also emits the finished plan node's message on the messages stream; the rest are write's tokens.
    expect(live.tokens()[0].data[0]).toMatchObject({ id: "plan-1" });
    const written = live.tokens().filter((f) => f.data[1].langgraph_node === "write");
    expect(written.length).toBe(live.tokens().length - 1);
    expect(res.body.partial.token_count).toBe(written.length);

    const state = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(state.values.messages.map((m: any) => m.content)).toEqual(["write me something", "Plan: a beginning, a middle, an end.", written.map((f) => f.data[0].content).join("")]);
    expect(state.next).toEqual([]);
    expect(state.metadata).toMatchObject({ source: "update" });
    const assistants = (await t.api.post("/assistants/search", {})).body.map((a: any) => a.graph_id).sort();
    expect(assistants).toEqual(["story", "two_step"]);
  });
});
