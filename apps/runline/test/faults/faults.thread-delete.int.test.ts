import { listWorkerHeartbeats } from "@runline/queue";
import { waitFor } from "@runline/testing";
import { slowStory, startLiveRun } from "../cancel-helpers";
import { userInput } from "../harness";
import { startFaultRig, type FaultRig } from "./fault-rig";

// A thread deleted while its run's worker cannot answer (frozen), then re-created under the same id: when the
// worker wakes, none of its writes may land in the new thread.
let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig("faults-thread-delete", { role: "api" });
});
afterAll(() => rig.close());

describe("deleting a thread whose run does not stop", () => {
  it("finishes the run itself; the woken worker writes nothing into the re-created thread", async () => {
    const { api } = rig.runline;
    const worker = await rig.spawnWorker();
    const threadId = `${rig.ns.id}-reborn`;
    expect((await api.post("/threads", { thread_id: threadId })).status).toBe(200);
    const live = await startLiveRun(rig.runline, threadId, "ghost story", { config: slowStory(100, 30) });
    await live.readTokens(4);
    worker.child.kill("SIGSTOP");
    expect((await api.request("DELETE", `/threads/${threadId}`)).status).toBe(204);
    expect((await api.post("/threads", { thread_id: threadId })).status).toBe(200);
    worker.child.kill("SIGCONT");
    // The woken attempt learns it lost the run (fences, control poll) and lets go of it.
    await waitFor(async () => {
      const [beat] = (await listWorkerHeartbeats(rig.ns.redis, rig.ns.redisPrefix)).workers;
      return beat !== undefined && beat.active_run_ids.length === 0;
    }, { what: "the woken worker holds no run" });
    const state = (await api.get(`/threads/${threadId}/state`)).body;
    expect(state.values).toEqual({});
    expect(state.checkpoint).toBeNull();
    // Checkpoints name their thread by its storage key, `<tenant>:<id>`.
    const { rows } = await rig.ns.pool.query(`SELECT count(*)::int AS n FROM checkpoints WHERE thread_id LIKE '%:' || $1`, [threadId]);
    expect(rows[0].n).toBe(0);
    // The new thread is a thread like any other.
    const run = await api.post(`/threads/${threadId}/runs/wait`, { assistant_id: "story", input: userInput("fresh start"), config: slowStory(3, 1) });
    expect(run.status).toBe(200);
    expect(run.body.messages).toHaveLength(2);
    live.stream.close();
    await worker.kill();
  });
});
