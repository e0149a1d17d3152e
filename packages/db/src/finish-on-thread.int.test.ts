// A run's finish in one statement (RunsRepo.finishOnThread), after the thread lock taken in the BEGIN round trip
// (ThreadsRepo.lockStatement), or in that same round trip as the run lifecycle sends it. Checked against real
// Postgres: the thread's status after it, the compare-and-set, and the race it exists for: a run created on the
// thread while the finish waits for the lock must be seen as still active (the thread stays busy and its next run
// is claimed), or that run would be stranded.
import { waitForLockWait } from "@runline/testing";
import { withTransaction } from "./pool";
import { RunsRepo, type FinishedOnThread, type FinishExtra } from "./runs.repo";
import { insertRun, useRepos } from "./test-support";
import { ThreadsRepo } from "./threads.repo";

const repos = useRepos("finish_on_thread");
let n = 0;

const newRun = (threadId: string, db: Parameters<RunsRepo["insert"]>[0] = repos.pool) => insertRun(repos.runs, db, threadId, "t1");

/** A thread whose one run is running (attempt 1). */
async function runningThread(): Promise<{ threadId: string; runId: string }> {
  const threadId = `t1:thread-${++n}`;
  await repos.threads.insert("t1", threadId, {});
  await repos.pool.query("UPDATE threads SET status = 'busy' WHERE thread_id = $1", [threadId]);
  const runId = await newRun(threadId);
  await repos.pool.query("UPDATE runs SET status = 'running', attempt = 1 WHERE run_id = $1", [runId]);
  return { threadId, runId };
}

type Finish = (threadId: string, runId: string, attempt?: number, threadStatus?: "idle" | "error", extra?: Partial<FinishExtra>) => Promise<FinishedOnThread | null>;

/** The lock in BEGIN's round trip, the finish in a statement of its own. */
const finishAfterLock: Finish = (threadId, runId, attempt = 1, threadStatus = "idle", extra = {}) =>
  withTransaction(
    repos.pool,
    (tx) => repos.runs.finishOnThread(tx, runId, threadId, threadStatus === "error" ? "error" : "success", { from: ["running"], attempt, threadStatus, ...extra }),
    ThreadsRepo.lockStatement(threadId),
  );

/** As the run lifecycle finishes: lock and finish both in BEGIN's round trip, each statement with its own snapshot. */
const finishInOpening: Finish = (threadId, runId, attempt = 1, threadStatus = "idle", extra = {}) => {
  const statement = RunsRepo.finishOnThreadStatement(runId, threadId, threadStatus === "error" ? "error" : "success", { from: ["running"], attempt, threadStatus, ...extra });
  return withTransaction(repos.pool, async (_tx, opened) => RunsRepo.readFinishOnThread(opened[1]!), `${ThreadsRepo.lockStatement(threadId)}; ${statement}`);
};
const threadStatus = async (threadId: string) => (await repos.pool.query("SELECT status FROM threads WHERE thread_id = $1", [threadId])).rows[0].status;

describe.each([
  ["after the lock", finishAfterLock],
  ["in the opening round trip", finishInOpening],
])("RunsRepo.finishOnThread, %s", (_form, finish) => {
  it("finishes the run and gives the thread the status asked for when nothing else is active", async () => {
    const { threadId, runId } = await runningThread();
    const finished = await finish(threadId, runId, 1, "error");
    expect(finished).toMatchObject({ run: { run_id: runId, status: "error", thread_id: threadId }, stillActive: false });
    expect(finished!.run).not.toHaveProperty("still_active");
    expect(typeof finished!.run.finished_at).toBe("string");
    expect(await threadStatus(threadId)).toBe("error");
  });

  it("refuses another attempt's finish and leaves the run and the thread alone", async () => {
    const { threadId, runId } = await runningThread();
    expect(await finish(threadId, runId, 2)).toBeNull();
    expect((await repos.runs.getById(runId))!.status).toBe("running");
    expect(await threadStatus(threadId)).toBe("busy");
  });

  it("keeps the thread busy while another run of it is pending", async () => {
    const { threadId, runId } = await runningThread();
    const queued = await newRun(threadId);
    expect(await finish(threadId, runId)).toMatchObject({ stillActive: true });
    expect(await threadStatus(threadId)).toBe("busy");
    expect(await repos.runs.claimNextForDispatch(repos.pool, threadId)).toMatchObject({ runId: queued });
    // Claimed once: the next claim finds it in flight.
    expect(await repos.runs.claimNextForDispatch(repos.pool, threadId)).toBeNull();
  });

  it("sees a run created while it waited for the thread lock", async () => {
    const { threadId, runId } = await runningThread();
    const creator = await repos.pool.connect();
    try {
      // A creation in flight: it holds the thread row (as RunsService's create transaction does) and adds a run.
      await creator.query("BEGIN");
      await repos.threads.lock(creator, threadId);
      const created = await newRun(threadId, creator);
      const finishing = finish(threadId, runId);
      await waitForLockWait(repos.pool, "BEGIN; SELECT 1 FROM threads", "the finish to wait for the thread lock");
      await creator.query("COMMIT");
      expect(await finishing).toMatchObject({ run: { status: "success" }, stillActive: true });
      expect(await threadStatus(threadId)).toBe("busy");
      expect(await repos.runs.claimNextForDispatch(repos.pool, threadId)).toMatchObject({ runId: created });
    } finally {
      creator.release();
    }
  });

  it("stores an error and a partial with quotes, backslashes and non-ASCII text exactly (values inlined safely)", async () => {
    const { threadId, runId } = await runningThread();
    const awkward = `it's a "test" \\ with \\' and $1 and ü → 😀 \u2028 end';--`;
    const error = { error: "Boom", message: awkward };
    const partial = { saved: true, text: awkward, nested: { list: [awkward, 1, null] } } as never;
    const finished = await finish(threadId, runId, 1, "error", { error, partial });
    expect(finished?.run).toMatchObject({ error, partial });
    expect(await repos.runs.getById(runId)).toMatchObject({ status: "error", error, partial });
  });
});
