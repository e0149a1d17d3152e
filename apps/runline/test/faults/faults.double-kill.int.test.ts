import { waitFor } from "@runline/testing";
import { newThread, slowStory, startLiveRun } from "../cancel-helpers";
import { lastAiText, userInput } from "../harness";
import { auditRun, startFaultRig, type FaultRig } from "./fault-rig";

// The owner dies, then the worker that took over dies too. BullMQ then fails the job ("stalled more than
// allowable limit") without calling any processor: only the reconciler can move the run on.
let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig("faults-double-kill", { role: "api" });
});
afterAll(() => rig.close());

describe("two workers killed in a row", () => {
  it("the reconciler puts the run back: a third worker finishes it and the thread takes the next run", async () => {
    const first = await rig.spawnWorker();
    const threadId = await newThread(rig.runline);
    const live = await startLiveRun(rig.runline, threadId, "nine lives", { config: slowStory(40, 40) });
    await live.readTokens(4);
    await first.kill("SIGKILL");
    const second = await rig.spawnWorker();
    while (!live.frames.some((f) => f.event === "metadata" && f.data.attempt === 2)) await live.readTokens(live.tokens().length + 1);
    await live.readTokens(live.tokens().length + 3);
    await second.kill("SIGKILL");
    // This worker's stalled check finds the job stalled a second time and fails it without running it; what
    // moves the run on from there is the reconciler (before it, the run stayed `running` forever).
    const third = await rig.spawnWorker();
    await live.readToEnd();
    expect(live.frames[live.frames.length - 1].data.status).toBe("success");
    const audit = await auditRun(rig.ns, threadId, live.runId);
    expect(audit).toMatchObject({ status: "success", attempt: 3, ends: 1, afterEnd: 0, interleaved: 0 });
    const head = (await rig.runline.api.get(`/threads/${threadId}/state`)).body;
    expect(lastAiText(head.values)).toBe(audit.lastMessageText);
    // Both dead attempts' partials are kept as branches in history.
    const history = (await rig.runline.api.post(`/threads/${threadId}/history`, { limit: 50 })).body;
    const partials = history.filter((s: any) => s.values.messages?.some((m: any) => m.response_metadata?.runline_partial?.reason === "worker_lost"));
    expect(partials.length).toBeGreaterThanOrEqual(2);
    const next = await rig.runline.api.post(`/threads/${threadId}/runs/wait`, { assistant_id: "story", input: userInput("again"), config: slowStory(5, 1) });
    expect(next.status).toBe(200);
    await third.kill();
  });

  it("past the attempt limit the run ends `error`, once, with its partial kept, and frees its thread", async () => {
    const threadId = await newThread(rig.runline);
    const live = await startLiveRun(rig.runline, threadId, "too fragile", { config: slowStory(200, 40) });
    // Three workers die in a row (RUNLINE_MAX_ATTEMPTS=3): the fourth attempt gives up.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const worker = await rig.spawnWorker();
      while (!live.frames.some((f) => f.event === "metadata" && f.data.attempt === attempt)) await live.readTokens(live.tokens().length + 1);
      await live.readTokens(live.tokens().length + 2);
      await worker.kill("SIGKILL");
    }
    const last = await rig.spawnWorker();
    await live.readToEnd();
    const end = live.frames[live.frames.length - 1].data;
    expect(end).toMatchObject({ status: "error", error: { error: "WorkerLost" } });
    expect(end.partial.token_count).toBeGreaterThan(0);
    const audit = await auditRun(rig.ns, threadId, live.runId);
    expect(audit).toMatchObject({ status: "error", ends: 1, afterEnd: 0 });
    await waitFor(async () => (await rig.runline.api.get(`/threads/${threadId}`)).body.status !== "busy", { what: "thread freed" });
    await last.kill();
  });
});
