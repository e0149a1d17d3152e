import type { LiveRun } from "./cancel-helpers";
import { continueAndCheck } from "./model-http/continue-run";
import { useModelHttpRig, words } from "./model-http/model-http-helpers";
import { stopWhen } from "./model-http/stop-when";

const rig = useModelHttpRig("model-http-parallel");

const parallelRun = { assistant_id: "parallel", stream_mode: ["values", "messages-tuple", "updates"] };
const long = { kind: "stream", tokens: words(400), delayMs: 10 } as const;

/** What subscribers saw of one node: its message id and text. */
function seenOf(live: LiveRun, node: string) {
  const frames = live.tokens().filter((f) => f.data[1].langgraph_node === node);
  return { id: frames[0]?.data[0].id, text: frames.map((f) => f.data[0].content).join(""), tokens: frames.length };
}

/** The branch whose `updates` event arrived (it finished), if any. */
const finished = (live: LiveRun) => live.frames.filter((f) => f.event === "updates").flatMap((f) => ["left", "right"].filter((n) => n in f.data))[0];
const other = (node: string) => (node === "left" ? "right" : "left");

describe("two nodes streaming in parallel (`left`, `right` from START)", () => {
  it("cancel while both stream: both partials are saved, `left` before `right` (LangGraph's task order)", async () => {
    // Which node gets which reply depends on which request arrives first; the assertions do not care.
    const { threadId, live, res, state } = await stopWhen(rig, {
      text: "two at once",
      run: parallelRun,
      replies: [long, long],
      ready: (l) => seenOf(l, "left").tokens >= 3 && seenOf(l, "right").tokens >= 3,
    });
    const left = seenOf(live, "left");
    const right = seenOf(live, "right");
    expect(state.values.messages.map((m: any) => [m.id, m.content])).toEqual([
      [expect.any(String), "two at once"],
      [left.id, left.text],
      [right.id, right.text],
    ]);
    for (const m of state.values.messages.slice(1)) expect(m.response_metadata.runline_partial).toMatchObject({ cancelled: true });
    expect(res.body.partial.token_count).toBe(left.tokens + right.tokens);
    expect(state.next).toEqual([]);

    const { sent } = await continueAndCheck(rig, threadId, { run: parallelRun });
    expect(sent.map((m: any) => [m.role, m.content])).toEqual([
      ["user", "two at once"],
      ["assistant", left.text],
      ["assistant", right.text],
      ["user", "please continue"],
    ]);
  });

  it("cancel after one branch finished: its committed answer comes first, then the other's partial", async () => {
    const { threadId, live, state } = await stopWhen(rig, {
      text: "one fast, one slow",
      run: parallelRun,
      replies: [{ kind: "stream", tokens: ["Quick", " one"] }, long],
      ready: (l) => Boolean(finished(l)) && seenOf(l, other(finished(l))).tokens >= 3,
    });
    const partial = seenOf(live, other(finished(live)));
    const messages = state.values.messages;
    expect(messages.map((m: any) => m.content)).toEqual(["one fast, one slow", "Quick one", partial.text]);
    expect(messages[1].response_metadata.runline_partial).toBeUndefined();
    expect(messages[2]).toMatchObject({ id: partial.id, response_metadata: { runline_partial: { cancelled: true, token_count: partial.tokens } } });
    // The run's last `values` event (what subscribers end with) shows the finished branch too (`getState` of the
    // head folds in its pending writes, which the save starts from).
    const last = live.frames.filter((f) => f.event === "values").at(-1)!;
    expect(last.data.messages.map((m: any) => m.content)).toEqual(messages.map((m: any) => m.content));

    await continueAndCheck(rig, threadId, { run: parallelRun });
  });
});
