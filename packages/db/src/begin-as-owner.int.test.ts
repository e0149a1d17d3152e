// The checkpoint fence's one round trip: BEGIN and the ownership read, as one simple-protocol query with the run
// id inlined. Checked against real Postgres: who owns, who does not, an id that needs escaping, and that the
// read holds off a takeover until the write's transaction ends.
import { createTestNamespace, type TestNamespace } from "@runline/testing";
import { migrate } from "./migrations";
import { createPool } from "./pool";
import { RunsRepo } from "./runs.repo";
import { ThreadsRepo } from "./threads.repo";
import type { Pool } from "pg";

let ns: TestNamespace;
let pool: Pool;
const runId = "11111111-1111-4111-8111-111111111111";

beforeAll(async () => {
  ns = await createTestNamespace("begin_as_owner");
  pool = createPool(ns.databaseUrl, ns.schema);
  await migrate(pool, ns.schema);
  await new ThreadsRepo(pool).insert("t1", "thread-1", {});
  await new RunsRepo(pool).insert(pool, {
    run_id: runId,
    thread_id: "thread-1",
    tenant_id: "t1",
    assistant_id: "story",
    graph_id: "story",
    metadata: {},
    multitask_strategy: "reject",
    kwargs: {} as never,
  });
  await pool.query("UPDATE runs SET status = 'running', attempt = 2 WHERE run_id = $1", [runId]);
});

afterAll(async () => {
  await pool.end();
  await ns.cleanup();
});

/** beginAsOwner on a fresh client, rolled back again; returns what it answered and whether a transaction was open. */
async function ownsAndRollBack(id: string, attempt: number): Promise<boolean> {
  const client = await pool.connect();
  try {
    const owns = await RunsRepo.beginAsOwner(client, id, attempt);
    // The transaction is open either way (the saver rolls a refused write back): SAVEPOINT fails outside one.
    await client.query("SAVEPOINT probe");
    await client.query("ROLLBACK");
    return owns;
  } finally {
    client.release();
  }
}

describe("RunsRepo.beginAsOwner", () => {
  it("answers true for the attempt that owns the running run, false for an earlier or a later one", async () => {
    expect(await ownsAndRollBack(runId, 2)).toBe(true);
    expect(await ownsAndRollBack(runId, 1)).toBe(false);
    expect(await ownsAndRollBack(runId, 3)).toBe(false);
  });

  it("inlines the run id escaped: quotes and backslashes are data, not SQL", async () => {
    expect(await ownsAndRollBack(`${runId}' OR '1'='1`, 2)).toBe(false);
    expect(await ownsAndRollBack(`x\\'; DROP TABLE runs; --`, 2)).toBe(false);
    expect((await pool.query("SELECT count(*)::int AS n FROM runs")).rows[0].n).toBe(1);
  });

  it("refuses a non-integer attempt before sending anything", async () => {
    const client = await pool.connect();
    try {
      await expect(RunsRepo.beginAsOwner(client, runId, 1.5)).rejects.toThrow(TypeError);
    } finally {
      client.release();
    }
  });

  it("holds off a takeover (an UPDATE of the run) until the owning write's transaction ends", async () => {
    const writer = await pool.connect();
    try {
      expect(await RunsRepo.beginAsOwner(writer, runId, 2)).toBe(true);
      let tookOver = false;
      const takeover = pool.query("UPDATE runs SET attempt = 3 WHERE run_id = $1", [runId]).then(() => (tookOver = true));
      // The takeover must be waiting on the row lock: Postgres shows it as a lock wait.
      const deadline = Date.now() + 5_000;
      for (;;) {
        const { rows } = await pool.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE runs SET attempt = 3%'",
        );
        if (rows[0].n === 1) break;
        if (Date.now() > deadline) throw new Error("the takeover never waited for the write");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
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
