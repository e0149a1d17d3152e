import { newThread, slowStory, startLiveRun } from "../cancel-helpers";
import { lastAiText } from "../harness";
import { auditRun, startFaultRig, type FaultRig } from "./fault-rig";

// A deploy: SIGTERM to a worker with a run in flight. Locks and stall checks are long here (20 s), so a run
// that waited for BullMQ's stall check would not be taken over within this test's time limit: only the
// drain's hand-off can move it to the other worker in time.
const SLOW_STALL = { RUNLINE_LOCK_DURATION_MS: "20000", RUNLINE_STALLED_INTERVAL_MS: "20000", RUNLINE_SHUTDOWN_GRACE_MS: "300" };
let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig("faults-drain", { role: "api", env: SLOW_STALL });
});
afterAll(() => rig.close());

describe("SIGTERM with a run in flight", () => {
  it("after the grace period the run moves to another worker at once, the drained attempt's partial kept as a branch", async () => {
    const leaving = await rig.spawnWorker();
    const threadId = await newThread(rig.runline);
    const live = await startLiveRun(rig.runline, threadId, "shift change", { config: slowStory(200, 30) });
    await live.readTokens(6);
    const staying = await rig.spawnWorker();
    leaving.child.kill("SIGTERM");
    const exited = leaving.exited;
    await live.readToEnd();
    expect(await exited).toBe(0);

    const restart = live.frames.find((f) => f.event === "metadata" && f.data.restarted)!.data;
    expect(restart.attempt).toBe(2);
    const firstIndex = live.frames.findIndex((f) => f.event === "metadata" && f.data.restarted);
    const drainedTokens = live.frames.slice(0, firstIndex).filter((f) => f.event === "messages");
    expect(restart.previous_attempt_partial.token_count).toBe(drainedTokens.length);
    const branch = (await rig.runline.api.get(`/threads/${threadId}/state/${restart.previous_attempt_partial.checkpoint_id}`)).body;
    expect(branch.values.messages[1].content).toBe(drainedTokens.map((f) => f.data[0].content).join(""));

    expect(live.frames[live.frames.length - 1].data.status).toBe("success");
    const audit = await auditRun(rig.ns, threadId, live.runId);
    expect(audit).toMatchObject({ status: "success", attempt: 2, ends: 1, afterEnd: 0, interleaved: 0 });
    const head = (await rig.runline.api.get(`/threads/${threadId}/state`)).body;
    expect(lastAiText(head.values)).toBe(audit.lastMessageText);
    await staying.kill();
  });
});
