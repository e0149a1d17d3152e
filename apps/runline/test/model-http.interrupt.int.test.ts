import { cancel, newThread, startLiveRun } from "./cancel-helpers";
import { continueAndCheck } from "./model-http/continue-run";
import { assertProviderValidHistory } from "./model-http/provider-history";
import { useModelHttpRig, words } from "./model-http/model-http-helpers";
import { stopWhen } from "./model-http/stop-when";

const rig = useModelHttpRig("model-http-interrupt");

const reviewRun = { assistant_id: "review", stream_mode: ["values", "messages-tuple", "updates"] };
const resume = (feedback: string) => ({ ...reviewRun, input: undefined, command: { resume: feedback } });

/** Runs the graph up to its `interrupt()`: the model drafts, then `review` waits. */
async function draftAndWait(threadId: string, text: string) {
  rig.fake.enqueue({ kind: "stream", tokens: ["A", " draft"] });
  const run = await startLiveRun(rig.t, threadId, text, reviewRun);
  const frames = await run.readToEnd();
  expect(frames.find((f) => f.event === "end")!.data.status).toBe("success");
  expect((await rig.t.api.get(`/threads/${threadId}`)).body.status).toBe("interrupted");
  return run;
}

describe("an interrupt() graph (draft → review waits for the human → revise)", () => {
  it("cancel while it waits for input: the run already ended, so nothing changes and the thread still resumes", async () => {
    const threadId = await newThread(rig.t);
    const waiting = await draftAndWait(threadId, "write a haiku");
    const stateBefore = (await rig.t.api.get(`/threads/${threadId}/state`)).body;
    expect(stateBefore.next).toEqual(["review"]);

    // The official servers: JS only warns on a cancel of a finished run. Runline answers 200 `already_finished`.
    const res = await cancel(rig.t, waiting);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: "already_finished", status: "success", partial: null });
    const stateAfter = (await rig.t.api.get(`/threads/${threadId}/state`)).body;
    expect(stateAfter.checkpoint_id).toBe(stateBefore.checkpoint_id);
    expect(stateAfter.interrupts).toHaveLength(1);
    expect((await rig.t.api.get(`/threads/${threadId}`)).body.status).toBe("interrupted");

    const { sent, state } = await continueAndCheck(rig, threadId, { run: resume("shorter, please") });
    expect(sent.map((m: any) => [m.role, m.content])).toEqual([
      ["user", "write a haiku"],
      ["assistant", "A draft"],
      ["user", "shorter, please"],
    ]);
    expect(state.values.messages.map((m: any) => m.content)).toEqual(["write a haiku", "A draft", "shorter, please", "Carrying on"]);
  });

  it("cancel while the resumed run streams: the partial revision is saved and the thread continues", async () => {
    const threadId = await newThread(rig.t);
    await draftAndWait(threadId, "write a limerick");
    const { live: resumed, state } = await stopWhen(rig, {
      threadId,
      text: "",
      run: resume("more rhymes"),
      replies: [{ kind: "stream", tokens: words(400), delayMs: 10 }],
      ready: (l) => l.tokens().length >= 4,
    });
    const revision = resumed.tokens().filter((f) => f.data[1].langgraph_node === "revise");
    expect(state.values.messages.map((m: any) => m.content)).toEqual(["write a limerick", "A draft", "more rhymes", revision.map((f) => f.data[0].content).join("")]);
    expect(state.values.messages[3].response_metadata.runline_partial).toMatchObject({ cancelled: true, token_count: revision.length });
    // The interrupt was answered before the cut: the thread is idle with nothing pending, not waiting again.
    expect(state.next).toEqual([]);
    expect(state.interrupts).toEqual([]);
    expect((await rig.t.api.get(`/threads/${threadId}`)).body.status).toBe("idle");
    assertProviderValidHistory(state.values.messages);

    // "please continue" starts the graph over: a new draft with the whole history, then review waits again.
    const { sent } = await continueAndCheck(rig, threadId, { run: reviewRun });
    expect(sent.map((m: any) => m.role)).toEqual(["user", "assistant", "user", "assistant", "user"]);
    expect((await rig.t.api.get(`/threads/${threadId}`)).body.status).toBe("interrupted");
  });
});
