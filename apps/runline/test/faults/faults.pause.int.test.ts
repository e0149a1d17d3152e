import { waitFor } from "@runline/testing";
import { newThread, slowStory, startLiveRun } from "../cancel-helpers";
import { lastAiText } from "../harness";
import { auditRun, startFaultRig, type FaultRig } from "./fault-rig";

// A worker frozen past its lock (GC pause, SIGSTOP, a starved event loop) while another takes the run over:
// BullMQ only reports the lost lock, so without fencing both would stream the run to the end.
let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig("faults-pause", { role: "api" });
});
afterAll(() => rig.close());

describe("a worker paused past its lock", () => {
  it("is fenced when it wakes: one execution streams, nothing is written after end, the state holds what subscribers got", async () => {
    const frozen = await rig.spawnWorker();
    const threadId = await newThread(rig.runline);
    const live = await startLiveRun(rig.runline, threadId, "freeze and thaw", { config: slowStory(50, 40) });
    await live.readTokens(5);
    frozen.child.kill("SIGSTOP");
    const rescuer = await rig.spawnWorker();
    // Read until the takeover announced itself, then thaw the first worker while the second one streams.
    while (!live.frames.some((f) => f.event === "metadata" && f.data.attempt === 2)) await live.readTokens(live.tokens().length + 1);
    frozen.child.kill("SIGCONT");
    await live.readToEnd();
    expect(live.frames[live.frames.length - 1].data.status).toBe("success");

    const audit = await auditRun(rig.ns, threadId, live.runId);
    expect(audit).toMatchObject({ status: "success", attempt: 2, ends: 1, afterEnd: 0, interleaved: 0, checkpointsAfterEnd: 0 });
    const head = (await rig.runline.api.get(`/threads/${threadId}/state`)).body;
    expect(lastAiText(head.values)).toBe(audit.lastMessageText);
    // The thawed worker learned it lost the run and stopped: the thread takes the next run at once.
    await waitFor(async () => (await rig.runline.api.get(`/threads/${threadId}`)).body.status === "idle", { what: "thread idle" });
    await rescuer.kill();
    await frozen.kill();
  });
});
