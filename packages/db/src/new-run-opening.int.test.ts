// A run's creation opens its transaction with one round trip (RunsService.create): BEGIN, the thread lock
// (ThreadsRepo.lockForNewRunStatement), the tenant's quota lock (RunsRepo.quotaLockStatement), then the thread's
// active runs and the quota counts (RunsRepo.activeForNewRunStatement). Checked against real Postgres: the read is
// placed after the locks in the same query string, and must see what was committed while it waited for them. If
// it did not, a creation racing another on the same thread would claim its run at insert beside the other's: two
// runs of one thread in flight.
import { waitForLockWait } from "@runline/testing";
import { withTransaction } from "./pool";
import { RunsRepo } from "./runs.repo";
import { insertRun, useRepos } from "./test-support";
import { ThreadsRepo } from "./threads.repo";

const repos = useRepos("new_run_opening");
let n = 0;

const newRun = (threadId: string, tenantId: string, db: Parameters<RunsRepo["insert"]>[0] = repos.pool) => insertRun(repos.runs, db, threadId, tenantId);

async function idleThread(tenantId: string): Promise<string> {
  const threadId = `${tenantId}:thread-${++n}`;
  await repos.threads.insert(tenantId, threadId, {});
  return threadId;
}

/** What a creation's opening reads, in one round trip, as RunsService.create sends it. */
const opening = (tenantId: string, threadId: string, lock: "shared" | "exclusive" = "shared") =>
  withTransaction(
    repos.pool,
    async (_tx, opened) => ({ locked: opened[0]!.rowCount, ...RunsRepo.readActiveForNewRun(opened[opened.length - 1]!) }),
    [
      ThreadsRepo.lockForNewRunStatement(tenantId, threadId, { graph_id: "story", assistant_id: "it's quoted" }),
      RunsRepo.quotaLockStatement(tenantId, lock),
      RunsRepo.activeForNewRunStatement(threadId, tenantId),
    ].join("; "),
  );

describe("a new run's opening statements", () => {
  it("lock the thread, mark it busy with the stamp, and read its active runs and the quota counts", async () => {
    const threadId = await idleThread("ta");
    const other = await idleThread("tb");
    const first = await newRun(threadId, "ta");
    await newRun(other, "tb");
    expect(await opening("ta", threadId)).toEqual({ locked: 1, activeRunIds: [first], quota: { tenant: 1, all: 2 } });
    const row = (await repos.pool.query("SELECT status, metadata FROM threads WHERE thread_id = $1", [threadId])).rows[0];
    expect(row).toEqual({ status: "busy", metadata: { graph_id: "story", assistant_id: "it's quoted" } });
  });

  it("find nothing to lock on another tenant's thread and change nothing", async () => {
    const threadId = await idleThread("tc");
    expect(await opening("td", threadId)).toMatchObject({ locked: 0, activeRunIds: [] });
    expect((await repos.pool.query("SELECT status FROM threads WHERE thread_id = $1", [threadId])).rows[0].status).toBe("idle");
  });

  it.each(["shared", "exclusive"] as const)("see a run committed on the thread while they waited for its lock (quota lock %s)", async (lock) => {
    const tenantId = `te-${lock}`;
    const threadId = await idleThread(tenantId);
    const creator = await repos.pool.connect();
    try {
      // Another creation in flight: it holds the thread row, as the create transaction does, and adds a run.
      await creator.query("BEGIN");
      await repos.threads.lock(creator, threadId);
      const created = await newRun(threadId, tenantId, creator);
      const reading = opening(tenantId, threadId, lock);
      await waitForLockWait(repos.pool, "BEGIN; UPDATE threads", "the opening to wait for the thread lock", threadId);
      await creator.query("COMMIT");
      expect(await reading).toEqual({ locked: 1, activeRunIds: [created], quota: { tenant: 1, all: expect.any(Number) } });
    } finally {
      creator.release();
    }
  });

  it("see a run committed by a creation holding the tenant's quota lock exclusively", async () => {
    const threadId = await idleThread("tf");
    const elsewhere = await idleThread("tf");
    const creator = await repos.pool.connect();
    try {
      await creator.query("BEGIN");
      await creator.query(RunsRepo.quotaLockStatement("tf", "exclusive"));
      await newRun(elsewhere, "tf", creator);
      const reading = opening("tf", threadId);
      await waitForLockWait(repos.pool, "BEGIN; UPDATE threads", "the opening to wait for the quota lock", threadId);
      await creator.query("COMMIT");
      expect(await reading).toMatchObject({ locked: 1, activeRunIds: [], quota: { tenant: 1 } });
    } finally {
      creator.release();
    }
  });
});
