// RunLifecycle's finish against real Postgres, with the `end` sink and the queue recorded in memory: the `end` of a
// finished run carries what its finish changed, it goes out even when the finish hook throws, and a finish whose
// first commit's reply was lost (the retry's compare-and-set then fails) still runs the hook and writes its `end`.
import type { RunRecord } from "@runline/core";
import { ThreadsRepo, withTransaction } from "@runline/db";
import { insertRun, useRepos } from "@runline/db/test-support";
import type { RunQueue } from "@runline/queue";
import { RunDispatcher } from "./run-dispatcher";
import { RunLifecycle, type RunEndEvent } from "./run-lifecycle";

const repos = useRepos("lifecycle");
const ends: RunEndEvent[] = [];
let lifecycle: RunLifecycle;

beforeAll(() => {
  const { pool, runs, threads } = repos;
  const queue = { enqueue: async () => undefined } as unknown as RunQueue;
  lifecycle = new RunLifecycle({
    pool,
    runs,
    dispatcher: new RunDispatcher(pool, threads, runs, queue),
    journal: { end: async (_runId, data) => ends.push(data) },
    deleteThread: async () => undefined,
  });
});

let n = 0;
/** A busy thread whose one run is running its first attempt. */
async function runningRun(): Promise<RunRecord> {
  const { pool, runs, threads } = repos;
  const threadId = `t1:thread-${++n}`;
  await threads.insert("t1", threadId, {});
  const runId = await insertRun(runs, pool, threadId, "t1");
  await pool.query("UPDATE threads SET status = 'busy' WHERE thread_id = $1", [threadId]);
  await pool.query("UPDATE runs SET status = 'running', attempt = 1, started_at = clock_timestamp() WHERE run_id = $1", [runId]);
  return (await runs.getById(runId))!;
}

const endsOf = (runId: string) => ends.filter((e) => e.run_id === runId);

it("writes one end carrying every field the finish changed, even when the finish hook throws", async () => {
  const run = await runningRun();
  const finished = await lifecycle.finishAttempt(run, { status: "interrupted", error: null }, () => {
    throw new Error("a metrics hook that fails");
  });
  expect(finished).toMatchObject({ run_id: run.run_id, status: "interrupted" });
  const stored = (await repos.runs.getById(run.run_id))!;
  expect(endsOf(run.run_id)).toEqual([
    {
      run_id: run.run_id,
      status: "interrupted",
      error: null,
      partial: null,
      attempt: 1,
      started_at: stored.started_at,
      finished_at: stored.finished_at,
      updated_at: stored.updated_at,
    },
  ]);
  expect(stored.finished_at).toEqual(expect.any(String));
});

it("a finish whose commit already happened (its reply lost) runs the hook and writes the end once", async () => {
  const run = await runningRun();
  // The first try committed; only its reply was lost, so the retry's compare-and-set on `running` finds nothing.
  await withTransaction(repos.pool, (tx) => repos.runs.finishOnThread(tx, run.run_id, run.thread_id, "success", { from: ["running"], attempt: 1, threadStatus: "idle" }), ThreadsRepo.lockStatement(run.thread_id));
  const hooked: RunRecord[] = [];
  const finished = await lifecycle.finishAttempt(run, { status: "success" }, (row) => hooked.push(row));
  expect(finished).toMatchObject({ run_id: run.run_id, status: "success" });
  expect(hooked.map((row) => row.status)).toEqual(["success"]);
  expect(endsOf(run.run_id)).toHaveLength(1);
  expect(endsOf(run.run_id)[0]).toMatchObject({ status: "success", attempt: 1, finished_at: hooked[0]!.finished_at });
});
