/**
 * The migration to tenant-scoped thread ids (packages/db migration 7): a schema written with global thread ids
 * (threads, runs, LangGraph's checkpoint tables) comes back from a restart with every thread under its
 * tenant's storage key, its state, history and runs intact, and usable by new runs. The old schema is made the
 * way the previous release left it: real threads and runs, then their keys put back to the bare ids and the
 * migration's record removed.
 */
import { migrate } from "@runline/db";
import { createTestNamespace, type TestNamespace } from "@runline/testing";
import { apiClient, startTestRunline, userInput, type TestRunline } from "./harness";

const KEYS = { RUNLINE_API_KEYS: "mig-key-a:alpha,mig-key-b:beta" };
const quick = { configurable: { story_tokens: 4, story_token_delay_ms: 0 } };
const CHECKPOINT_TABLES = ["checkpoints", "checkpoint_blobs", "checkpoint_writes"];

let ns: TestNamespace;
let t: TestRunline | null = null;
beforeAll(async () => {
  ns = await createTestNamespace("tenancy-migration");
});
afterAll(async () => {
  await t?.close();
  await ns.cleanup();
});

/** Every stored thread id, per table (sorted, distinct). */
async function storedIds(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of ["threads", "runs", ...CHECKPOINT_TABLES]) {
    out[table] = (await ns.pool.query(`SELECT DISTINCT thread_id FROM ${table} ORDER BY 1`)).rows.map((r) => r.thread_id);
  }
  return out;
}

/** The tenancy migration's version (its index in MIGRATIONS); the release before it had none of it nor of the later ones. */
const TENANCY_MIGRATION = 6;

/** Puts the schema back as the release before tenant-scoped ids wrote it: bare ids, the old foreign key, no record. */
async function revertToGlobalIds(): Promise<void> {
  const bare = "substr(thread_id, strpos(thread_id, ':') + 1)";
  await ns.pool.query(`BEGIN;
    ALTER TABLE runs DROP CONSTRAINT runs_thread_id_fkey;
    ${[...CHECKPOINT_TABLES, "runs", "threads"].map((table) => `UPDATE ${table} SET thread_id = ${bare};`).join("\n")}
    ALTER TABLE runs ADD CONSTRAINT runs_thread_id_fkey FOREIGN KEY (thread_id) REFERENCES threads (thread_id) ON DELETE CASCADE;
    DROP FUNCTION runline_assert_attempt_owner(text, integer);
    DELETE FROM runline_migrations WHERE v >= ${TENANCY_MIGRATION};
    COMMIT;`);
}

describe("migration to tenant-scoped thread ids", () => {
  it("moves existing threads, runs and checkpoints under their tenant's key, and they keep working", async () => {
    t = await startTestRunline("tenancy-migration", KEYS, ns);
    const alpha = apiClient(t.url, "mig-key-a");
    const beta = apiClient(t.url, "mig-key-b");
    const [talked, empty, theirs] = ["talked", "empty", "theirs"].map((name) => `${ns.id}-${name}`);
    await alpha.post("/threads", { thread_id: talked, metadata: { kept: 1 } });
    await alpha.post(`/threads/${talked}/runs/wait`, { assistant_id: "story", input: userInput("before the upgrade"), config: quick });
    await alpha.post("/threads", { thread_id: empty });
    await beta.post("/threads", { thread_id: theirs });
    await beta.post(`/threads/${theirs}/runs/wait`, { assistant_id: "story", input: userInput("beta's"), config: quick });
    const before = {
      state: (await alpha.get(`/threads/${talked}/state`)).body,
      history: (await alpha.post(`/threads/${talked}/history`, { limit: 100 })).body.map((h: any) => h.checkpoint.checkpoint_id),
      runs: (await alpha.get(`/threads/${talked}/runs`)).body.map((r: any) => r.run_id),
    };
    await t.close();
    t = null;

    await revertToGlobalIds();
    const old = await storedIds();
    expect(old.threads).toEqual([empty, talked, theirs].sort());
    expect(old.checkpoints).toEqual([talked, theirs].sort());

    // The restart migrates (every process runs `migrate` on start).
    t = await startTestRunline("tenancy-migration", KEYS, ns);
    const migrated = await storedIds();
    expect(migrated.threads).toEqual([`alpha:${empty}`, `alpha:${talked}`, `beta:${theirs}`].sort());
    expect(migrated.runs).toEqual([`alpha:${talked}`, `beta:${theirs}`]);
    for (const table of CHECKPOINT_TABLES) expect({ table, ids: migrated[table] }).toEqual({ table, ids: [`alpha:${talked}`, `beta:${theirs}`] });

    const alphaAfter = apiClient(t.url, "mig-key-a");
    const betaAfter = apiClient(t.url, "mig-key-b");
    const state = (await alphaAfter.get(`/threads/${talked}/state`)).body;
    expect(state).toEqual(before.state);
    expect((await alphaAfter.post(`/threads/${talked}/history`, { limit: 100 })).body.map((h: any) => h.checkpoint.checkpoint_id)).toEqual(before.history);
    expect((await alphaAfter.get(`/threads/${talked}/runs`)).body.map((r: any) => r.run_id)).toEqual(before.runs);
    expect((await alphaAfter.get(`/threads/${talked}`)).body).toMatchObject({ thread_id: talked, metadata: { kept: 1 } });
    expect((await alphaAfter.get(`/threads/${empty}`)).status).toBe(200);
    // Still each tenant's own, and the id is now free for the other.
    expect((await betaAfter.get(`/threads/${talked}`)).status).toBe(404);
    expect((await betaAfter.get(`/threads/${theirs}/state`)).body.values.messages[0].content).toBe("beta's");
    expect((await betaAfter.post("/threads", { thread_id: talked })).status).toBe(200);

    // A new run continues the migrated conversation: the checkpoints are reachable under the key.
    const next = await alphaAfter.post(`/threads/${talked}/runs/wait`, { assistant_id: "story", input: userInput("after the upgrade"), config: quick });
    expect(next.status).toBe(200);
    const contents = (await alphaAfter.get(`/threads/${talked}/state`)).body.values.messages.map((m: any) => m.content);
    expect(contents[0]).toBe("before the upgrade");
    expect(contents).toContain("after the upgrade");
    expect(contents).toHaveLength(4);

    // Applied once: another start (or a second process) changes nothing.
    const settled = await storedIds();
    await migrate(ns.pool, ns.schema);
    expect(await storedIds()).toEqual(settled);
  });
});
