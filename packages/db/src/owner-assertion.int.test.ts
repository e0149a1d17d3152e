// The checkpoint fence's statement: one that fails unless the attempt owns the run, with the run id inlined (it
// rides in a one-round-trip batch). Checked against real Postgres: who owns, who does not, an id that needs
// escaping, and that it holds off a takeover until the write's transaction ends.
import { waitForLockWait } from "@runline/testing";
import type { PoolClient } from "pg";
import { RunsRepo } from "./runs.repo";
import { insertRun, useRepos } from "./test-support";

const repos = useRepos("owner_assertion");
let runId: string;

beforeAll(async () => {
  await repos.threads.insert("t1", "thread-1", {});
  runId = await insertRun(repos.runs, repos.pool, "thread-1", "t1");
  await repos.pool.query("UPDATE runs SET status = 'running', attempt = 2 WHERE run_id = $1", [runId]);
});

/** Opens a transaction and runs the assertion in it; true when it passed, false when it refused. Rolled back. */
async function begin(client: PoolClient, id: string, attempt: number): Promise<boolean> {
  await client.query("BEGIN");
  try {
    await client.query(RunsRepo.ownerAssertionSql(id, attempt));
    return true;
  } catch (err) {
    if (!RunsRepo.isFencedError(err)) throw err;
    return false;
  }
}

async function ownsAndRollBack(id: string, attempt: number): Promise<boolean> {
  const client = await repos.pool.connect();
  try {
    return await begin(client, id, attempt);
  } finally {
    await client.query("ROLLBACK");
    client.release();
  }
}

describe("RunsRepo.ownerAssertionSql", () => {
  it("answers true for the attempt that owns the running run, false for an earlier or a later one", async () => {
    expect(await ownsAndRollBack(runId, 2)).toBe(true);
    expect(await ownsAndRollBack(runId, 1)).toBe(false);
    expect(await ownsAndRollBack(runId, 3)).toBe(false);
  });

  it("inlines the run id escaped: quotes and backslashes are data, not SQL", async () => {
    expect(await ownsAndRollBack(`${runId}' OR '1'='1`, 2)).toBe(false);
    expect(await ownsAndRollBack(`x\\'; DROP TABLE runs; --`, 2)).toBe(false);
    expect((await repos.pool.query("SELECT count(*)::int AS n FROM runs")).rows[0].n).toBe(1);
  });

  it("refuses a non-integer attempt before sending anything", () => {
    expect(() => RunsRepo.ownerAssertionSql(runId, 1.5)).toThrow(TypeError);
  });

  it("holds off a takeover (an UPDATE of the run) until the owning write's transaction ends", async () => {
    const writer = await repos.pool.connect();
    try {
      expect(await begin(writer, runId, 2)).toBe(true);
      let tookOver = false;
      const takeover = repos.pool.query("UPDATE runs SET attempt = 3 WHERE run_id = $1", [runId]).then(() => (tookOver = true));
      // The takeover must be waiting on the row lock: Postgres shows it as a lock wait.
      await waitForLockWait(repos.pool, "UPDATE runs SET attempt = 3", "the takeover to wait for the write");
      expect(tookOver).toBe(false);
      await writer.query("COMMIT");
      await takeover;
      expect(await ownsAndRollBack(runId, 2)).toBe(false);
      expect(await ownsAndRollBack(runId, 3)).toBe(true);
    } finally {
      writer.release();
    }
  });
});
