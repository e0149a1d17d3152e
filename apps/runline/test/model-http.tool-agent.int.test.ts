import { waitFor } from "@runline/testing";
import { cancel, newThread, startLiveRun } from "./cancel-helpers";
import { continueAndCheck } from "./model-http/continue-run";
import { stopWhileToolRuns } from "./model-http/stop-when";
import { assertProviderValidHistory } from "./model-http/provider-history";
import { useModelHttpRig } from "./model-http/model-http-helpers";

const rig = useModelHttpRig("model-http-tool-agent");

const agentRun = { assistant_id: "tool_agent", stream_mode: ["values", "messages-tuple", "updates"] };

/** "please continue" after the stop: the provider must get a history it accepts, and the run must finish. */
const continueAgent = (threadId: string) => continueAndCheck(rig, threadId, { run: agentRun });

describe("tool-calling agent (ToolNode) over real HTTP: every stop leaves a history a provider accepts", () => {
  it("cancel while a tool runs: the tool gets the abort signal and its call is answered 'cancelled'", async () => {
    const { callId, threadId, live, res, state } = await stopWhileToolRuns(rig, "what are the tides?", agentRun);
    const messages = state.values.messages;
    expect(messages.map((m: any) => m.type)).toEqual(["human", "ai", "tool"]);
    expect(messages[1].tool_calls.map((c: any) => c.id)).toEqual([callId]); // committed: kept as sent
    expect(messages[2]).toMatchObject({ tool_call_id: callId, status: "error", additional_kwargs: { runline_cancelled: { run_id: live.runId } } });
    expect(res.body.partial.checkpoint_id).toBeTruthy();
    assertProviderValidHistory(messages);

    const { sent } = await continueAgent(threadId);
    expect(sent.map((m: any) => m.role)).toEqual(["user", "assistant", "tool", "user"]);
    expect(sent[2]).toMatchObject({ tool_call_id: callId, content: expect.stringContaining("Cancelled") });
  });

  it("cancel between the tool and the next model call: the tool's real result is kept", async () => {
    const callId = `call_quick_${rig.t.ns.id}`;
    rig.fake.enqueue(
      { kind: "stream", tokens: ["Looking"], toolCalls: [{ id: callId, name: "quick_lookup", args: '{"query":"moon"}' }] },
      // The second model call (after the tool) never sends a byte: the run sits between tool and answer.
      { kind: "silent" },
    );
    const before = rig.fake.requests.length;
    const threadId = await newThread(rig.t);
    const live = await startLiveRun(rig.t, threadId, "and the moon?", agentRun);
    await waitFor(() => rig.fake.requests.length >= before + 2, { what: "the model call after the tool" });
    const res = await cancel(rig.t, live);
    expect(res.body.outcome).toBe("cancelled");
    await live.readToEnd();
    await rig.fake.requests.at(-1)!.closed;
    const messages = (await rig.t.api.get(`/threads/${threadId}/state`)).body.values.messages;
    expect(messages.map((m: any) => m.type)).toEqual(["human", "ai", "tool"]);
    expect(messages[2]).toMatchObject({ tool_call_id: callId, content: "quick: moon" });
    assertProviderValidHistory(messages);
    await continueAgent(threadId);
  });

  it("cancel while the model streams its answer after a tool: the partial answer follows the tool result", async () => {
    const callId = `call_answer_${rig.t.ns.id}`;
    rig.fake.enqueue(
      { kind: "stream", tokens: ["Looking"], toolCalls: [{ id: callId, name: "quick_lookup", args: '{"query":"sun"}' }] },
      { kind: "stream", tokens: Array.from({ length: 300 }, (_, i) => ` t${i}`), delayMs: 10 },
    );
    const threadId = await newThread(rig.t);
    const live = await startLiveRun(rig.t, threadId, "and the sun?", agentRun);
    await live.readUntil((f) => f.event === "messages" && f.data[0].content === " t3");
    const res = await cancel(rig.t, live);
    expect(res.body.outcome).toBe("cancelled");
    await live.readToEnd();
    const messages = (await rig.t.api.get(`/threads/${threadId}/state`)).body.values.messages;
    expect(messages.map((m: any) => m.type)).toEqual(["human", "ai", "tool", "ai"]);
    expect(messages[3].response_metadata.runline_partial).toMatchObject({ cancelled: true });
    assertProviderValidHistory(messages);
    await continueAgent(threadId);
  });
});
