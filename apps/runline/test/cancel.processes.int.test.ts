import { collectSse, createTestNamespace, waitFor, type TestNamespace } from "@runline/testing";
import { cancel, newThread, slowStory, startLiveRun } from "./cancel-helpers";
import { lastAiText, startTestRunline, userInput, type TestRunline } from "./harness";
import { spawnWorker, type WorkerProcess } from "./worker-process";

// Short lock and stall checks so a killed worker's job comes back in seconds, not a minute.
const FAST_STALL = { RUNLINE_LOCK_DURATION_MS: "1500", RUNLINE_STALLED_INTERVAL_MS: "500" };

let ns: TestNamespace;
let api: TestRunline;
const workers: WorkerProcess[] = [];

async function startWorker(): Promise<WorkerProcess> {
  const worker = spawnWorker(ns, FAST_STALL);
  workers.push(worker);
  await worker.ready;
  return worker;
}

beforeAll(async () => {
  ns = await createTestNamespace("cancel-processes");
  api = await startTestRunline("cancel-processes", { RUNLINE_ROLE: "api" }, ns);
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill("SIGKILL")));
  await api.close();
  await ns.cleanup();
});

describe("API and workers in separate processes", () => {
  it("a cancel reaches the worker process that owns the run; the partial is saved before the answer", async () => {
    const pair = await Promise.all([startWorker(), startWorker()]);
    try {
      const threadId = await newThread(api);
      const live = await startLiveRun(api, threadId, "a story told elsewhere");
      await live.readTokens(6);
      const res = await cancel(api, live);
      expect(res.body).toMatchObject({ outcome: "cancelled", status: "interrupted" });
      await live.readToEnd();
      expect(res.body.partial.token_count).toBe(live.tokens().length);
      const state = (await api.api.get(`/threads/${threadId}/state`)).body;
      expect(state.values.messages[1].content).toBe(live.streamedText());
    } finally {
      await Promise.all(pair.map((w) => w.kill()));
    }
  });

  it("a worker killed mid-run: another worker keeps the dead attempt's partial as a branch and runs the story again", async () => {
    const first = await startWorker();
    const threadId = await newThread(api);
    const live = await startLiveRun(api, threadId, "survive this", { config: slowStory(40, 25) });
    await live.readTokens(8);
    await first.kill("SIGKILL");
    const second = await startWorker();
    try {
      await live.readToEnd();
      const restartIndex = live.frames.findIndex((f) => f.event === "metadata" && f.data.restarted);
      expect(restartIndex).toBeGreaterThan(0);
      const restart = live.frames[restartIndex].data;
      expect(restart.attempt).toBe(2);
      const deadTokens = live.frames.slice(0, restartIndex).filter((f) => f.event === "messages");
      const deadText = deadTokens.map((f) => f.data[0].content).join("");
      expect(restart.previous_attempt_partial.token_count).toBe(deadTokens.length);
      expect(live.frames[live.frames.length - 1].data.status).toBe("success");

      // The branch with the dead attempt's text is in history; the head is the finished story, asked once.
      const branch = (await api.api.get(`/threads/${threadId}/state/${restart.previous_attempt_partial.checkpoint_id}`)).body;
      expect(branch.values.messages[1].content).toBe(deadText);
      const head = (await api.api.get(`/threads/${threadId}/state`)).body;
      expect(head.values.messages.map((m: any) => m.type)).toEqual(["human", "ai"]);
      expect(head.values.messages[0].content).toBe("survive this");
      expect(lastAiText(head.values).split(" ").length).toBeGreaterThanOrEqual(40);
      expect((await api.api.get(`/threads/${threadId}/runs/${live.runId}`)).body).toMatchObject({ status: "success", attempt: 2 });
    } finally {
      await second.kill();
    }
  });

  it("a worker killed mid-run after a cancel was recorded: the cancel is finished from the journal, without calling the model again", async () => {
    const first = await startWorker();
    const threadId = await newThread(api);
    const live = await startLiveRun(api, threadId, "stop me", { config: slowStory(60, 25) });
    await live.readTokens(8);
    await first.kill("SIGKILL");
    // No worker is alive to hear this: the intent is recorded in Postgres and found by the next owner.
    const res = await cancel(api, live, "wait=0");
    expect(res.status).toBe(202);
    const second = await startWorker();
    try {
      await live.readToEnd();
      const end = live.frames[live.frames.length - 1].data;
      expect(end.status).toBe("interrupted");
      expect(live.frames.filter((f) => f.event === "metadata")).toHaveLength(1); // no second attempt
      expect(end.partial.token_count).toBe(live.tokens().length);
      const state = (await api.api.get(`/threads/${threadId}/state`)).body;
      expect(state.values.messages[1].content).toBe(live.streamedText());
      expect(state.values.messages[1].response_metadata.runline_partial.reason).toBe("worker_lost");
    } finally {
      await second.kill();
    }
  });

  it("a cancel recorded before any worker claimed the run (its pub/sub message reached nobody) stops it before the first token", async () => {
    const threadId = await newThread(api);
    const run = (await api.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("never told") })).body;
    // The job is in the queue; no worker runs. Record the cancel as the API would, minus the finish of a
    // pending run, to stand in for a worker that fetched the job just before the cancel arrived.
    await ns.pool.query(`UPDATE runs SET cancel_requested_at = now(), cancel_action = 'interrupt' WHERE run_id = $1`, [run.run_id]);
    const worker = await startWorker();
    try {
      const { frames } = await collectSse(`${api.url}/threads/${threadId}/runs/${run.run_id}/stream`);
      expect(frames[frames.length - 1].data).toMatchObject({ status: "interrupted", partial: { token_count: 0 } });
      expect(frames.filter((f) => f.event === "messages")).toHaveLength(0);
      await waitFor(async () => (await api.api.get(`/threads/${threadId}`)).body.status === "idle", { what: "thread idle" });
    } finally {
      await worker.kill();
    }
  });
});
