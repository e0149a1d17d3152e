import { waitFor, type SseFrame } from "@runline/testing";
import { cancel, newThread, startLiveRun, type LiveRun } from "./cancel-helpers";
import { continueAndCheck } from "./model-http/continue-run";
import { useModelHttpRig, words } from "./model-http/model-http-helpers";
import { stopWhen, stopWhileToolRuns } from "./model-http/stop-when";

const rig = useModelHttpRig("model-http-subgraphs");

const subgraphRun = { assistant_id: "subgraph", stream_mode: ["values", "messages-tuple", "updates"], stream_subgraphs: true };
const long = { kind: "stream", tokens: words(400), delayMs: 10 } as const;

/** Token frames from inside the subgraph (`messages|research:<task id>`), optionally of one subgraph node. */
const subgraphTokens = (live: LiveRun, node?: string) =>
  live.frames.filter((f) => f.event.startsWith("messages|research:") && (!node || f.data[1].langgraph_node === node));
const text = (frames: SseFrame[]) => frames.map((f) => f.data[0].content).join("");

describe("subgraph (`research`, two model calls) with stream_subgraphs: what subscribers saw is what is saved", () => {
  it("cancel in the subgraph's first node: its streamed text is saved in the root state, as the root node `research`", async () => {
    const { threadId, live, res, state } = await stopWhen(rig, {
      text: "research the tides",
      run: subgraphRun,
      replies: [long],
      ready: (l) => subgraphTokens(l, "gather").length >= 4,
    });
    const seen = subgraphTokens(live);
    expect(state.values.messages.map((m: any) => m.type)).toEqual(["human", "ai"]);
    const partial = state.values.messages[1];
    expect(partial).toMatchObject({ id: seen[0].data[0].id, content: text(seen) });
    expect(partial.response_metadata.runline_partial).toMatchObject({ cancelled: true, token_count: seen.length });
    expect(res.body.partial).toMatchObject({ message_id: partial.id, token_count: seen.length });
    // Saved as the root node's output: the root graph is past it, nothing is left pending.
    expect(state.next).toEqual([]);

    const { sent } = await continueAndCheck(rig, threadId, { run: subgraphRun });
    expect(sent.map((m: any) => [m.role, m.content])).toEqual([
      ["user", "research the tides"],
      ["assistant", text(seen)],
      ["user", "please continue"],
    ]);
  });

  it("cancel in its second node: the first node's committed answer and the cut one are both saved, in order", async () => {
    const { threadId, live, res, state } = await stopWhen(rig, {
      text: "and the moon?",
      run: subgraphRun,
      replies: [{ kind: "stream", tokens: ["Found", " facts"] }, long],
      ready: (l) => subgraphTokens(l, "answer").length >= 4,
    });
    const messages = state.values.messages;
    const answer = subgraphTokens(live, "answer");
    expect(messages.map((m: any) => m.content)).toEqual(["and the moon?", "Found facts", text(answer)]);
    // `gather` had finished inside the subgraph: kept as it committed, not marked partial.
    expect(messages[1].response_metadata.runline_partial).toBeUndefined();
    expect(messages[2].response_metadata.runline_partial).toMatchObject({ cancelled: true, token_count: answer.length });
    expect(res.body.partial).toMatchObject({ message_id: messages[2].id, token_count: answer.length });

    const { sent } = await continueAndCheck(rig, threadId, { run: subgraphRun });
    expect(sent.map((m: any) => m.role)).toEqual(["user", "assistant", "assistant", "user"]);
  });

  it("without stream_subgraphs subscribers see no subgraph token, and a cancel saves none", async () => {
    rig.fake.enqueue(long);
    const before = rig.fake.requests.length;
    const threadId = await newThread(rig.t);
    const rootOnly = { ...subgraphRun, stream_subgraphs: false };
    const live = await startLiveRun(rig.t, threadId, "quietly now", rootOnly);
    // Subscribers get no token to wait on: the fake server's count of chunks sent is the stop point.
    await waitFor(() => (rig.fake.requests[before]?.chunksSent ?? 0) >= 4, { what: "the subgraph's model to stream" });
    const res = await cancel(rig.t, live);
    expect(res.body.outcome).toBe("cancelled");
    await live.readToEnd();
    expect(live.frames.filter((f) => f.event.startsWith("messages"))).toEqual([]);
    expect(res.body.partial).toMatchObject({ message_id: null, token_count: 0 });
    const state = (await rig.t.api.get(`/threads/${threadId}/state`)).body;
    expect(state.values.messages.map((m: any) => m.type)).toEqual(["human"]);

    const { sent } = await continueAndCheck(rig, threadId, { run: rootOnly });
    expect(sent.map((m: any) => m.content)).toEqual(["quietly now", "please continue"]);
  });

  it("an agent subgraph stopped while its tool runs: its committed tool call is saved in the root state and answered 'cancelled'", async () => {
    const agentRun = { ...subgraphRun, assistant_id: "subgraph_agent" };
    const { callId, threadId, live, state } = await stopWhileToolRuns(rig, "look it up", agentRun);
    const messages = state.values.messages;
    expect(messages.map((m: any) => m.type)).toEqual(["human", "ai", "tool"]);
    // The AI message committed inside the subgraph is what subscribers saw: kept with its call, which is answered.
    expect(messages[1]).toMatchObject({ content: "Checking", tool_calls: [{ id: callId, name: "slow_lookup" }] });
    expect(messages[2]).toMatchObject({ tool_call_id: callId, status: "error", additional_kwargs: { runline_cancelled: { run_id: live.runId } } });

    const { sent } = await continueAndCheck(rig, threadId, { run: agentRun });
    expect(sent.map((m: any) => m.role)).toEqual(["user", "assistant", "tool", "user"]);
  });
});
