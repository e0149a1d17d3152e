import { collectSse, waitFor } from "@runline/testing";
import { newThread, slowStory } from "../cancel-helpers";
import { lastAiText, userInput } from "../harness";
import { auditRun, startFaultRig, type FaultRig } from "./fault-rig";

// Postgres goes away for two seconds while runs stream and more wait on their threads: claims, checkpoint
// writes and finishes fail with connection errors meanwhile. An outage this short must cost delay, not runs.
let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig("faults-postgres", { role: "all", privatePostgres: true });
});
afterAll(() => rig.close());

describe("a Postgres restart with runs streaming and queued", () => {
  it("every run ends once, as a success, and every thread is idle and takes new runs", async () => {
    const { api } = rig.runline;
    const threads = await Promise.all(Array.from({ length: 6 }, () => newThread(rig.runline)));
    const runs: Array<{ threadId: string; runId: string }> = [];
    for (const threadId of threads) {
      for (let i = 0; i < 2; i++) {
        const res = await api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput(`tale ${i}`), config: slowStory(60, 30) });
        expect(res.status).toBe(200);
        runs.push({ threadId, runId: res.body.run_id });
      }
    }
    // The first run of every thread is streaming (tokens in its journal), the second waits behind it.
    await waitFor(async () => (await rig.ns.pool.query(`SELECT count(*)::int AS n FROM runs WHERE status = 'running'`)).rows[0].n === 6, { what: "6 runs streaming" });
    await rig.postgres!.restart({ downMs: 2000, mode: "immediate" });

    for (const run of runs) {
      const { frames } = await collectSse(`${rig.runline.url}/threads/${run.threadId}/runs/${run.runId}/stream`, { headers: api.headers });
      expect(frames[frames.length - 1]).toMatchObject({ event: "end", data: { status: "success" } });
      const audit = await auditRun(rig.ns, run.threadId, run.runId);
      expect(audit).toMatchObject({ status: "success", ends: 1, afterEnd: 0, interleaved: 0 });
    }
    for (const threadId of threads) {
      await waitFor(async () => (await api.get(`/threads/${threadId}`)).body.status === "idle", { what: `thread ${threadId} idle` });
      const next = await api.post(`/threads/${threadId}/runs/wait`, { assistant_id: "story", input: userInput("after the storm"), config: slowStory(3, 1) });
      expect(next.status).toBe(200);
      // Both earlier runs (question and story each) are in the thread: nothing was lost to the outage.
      expect(lastAiText(next.body)).toBe("[story: saw 5");
    }
  });
});
