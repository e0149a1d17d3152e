import { waitFor } from "@runline/testing";
import { cancel, newThread, slowStory, startLiveRun, type LiveRun } from "../cancel-helpers";
import { lastAiText } from "../harness";
import { auditRun, startFaultRig, type FaultRig } from "./fault-rig";

const terminal = (status: string) => !["pending", "running"].includes(status);

async function runStatus(rig: FaultRig, threadId: string, runId: string): Promise<string> {
  return (await rig.runline.api.get(`/threads/${threadId}/runs/${runId}`)).body.status;
}

describe("Redis restarts with AOF while runs stream", () => {
  let rig: FaultRig;
  beforeAll(async () => {
    rig = await startFaultRig("faults-redis-aof", { role: "all", privateRedis: { appendOnly: true } });
  });
  afterAll(() => rig.close());

  it("every run ends once, no attempt streams after another took over, and the state holds the last attempt's story", async () => {
    const runs: Array<{ threadId: string; runId: string }> = [];
    for (let i = 0; i < 6; i++) {
      const threadId = await newThread(rig.runline);
      const res = await rig.runline.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: { messages: [{ role: "user", content: `tale ${i}` }] }, config: slowStory(80, 25) });
      runs.push({ threadId, runId: res.body.run_id });
    }
    await waitFor(async () => (await rig.ns.pool.query(`SELECT count(*)::int AS n FROM runs WHERE status = 'running'`)).rows[0].n === 6, { what: "6 runs streaming" });
    await rig.redis!.restart({ downMs: 2500 }); // longer than the 1.5 s lock
    for (const run of runs) {
      // The status commits before the `end` is written: wait for the `end`, which is what subscribers see.
      const audit = await waitFor(async () => {
        const seen = await auditRun(rig.ns, run.threadId, run.runId);
        return seen.ends > 0 ? seen : undefined;
      }, { what: `run ${run.runId} ends`, timeoutMs: 30_000 });
      expect(audit).toMatchObject({ status: "success", ends: 1, afterEnd: 0, interleaved: 0, checkpointsAfterEnd: 0 });
      const head = (await rig.runline.api.get(`/threads/${run.threadId}/state`)).body;
      expect(lastAiText(head.values)).toBe(audit.lastMessageText);
    }
  });
});

describe("Redis restarts without persistence, then the runs are cancelled", () => {
  let rig: FaultRig;
  beforeAll(async () => {
    rig = await startFaultRig("faults-redis-volatile", { role: "all", privateRedis: {} });
  });
  afterAll(() => rig.close());

  it("the cancels recorded in Postgres still take effect: no run ends `success`, every thread is freed", async () => {
    const lives: LiveRun[] = [];
    for (let i = 0; i < 3; i++) {
      const live = await startLiveRun(rig.runline, await newThread(rig.runline), `doomed ${i}`, { config: slowStory(400, 25) });
      await live.readTokens(3);
      lives.push(live);
    }
    // Queue, locks and journals are gone with the data: Runline must rebuild from Postgres alone.
    await rig.redis!.restart({ downMs: 300 });
    const answers = await Promise.all(lives.map((live) => cancel(rig.runline, live)));
    for (const [i, live] of lives.entries()) {
      expect(answers[i].status).toBe(200);
      await waitFor(async () => terminal(await runStatus(rig, live.threadId, live.runId)), { what: "run ends", timeoutMs: 30_000 });
      expect(await runStatus(rig, live.threadId, live.runId)).toBe("interrupted");
      await waitFor(async () => (await rig.runline.api.get(`/threads/${live.threadId}`)).body.status === "idle", { what: "thread idle" });
      live.stream.close();
    }
  });
});
