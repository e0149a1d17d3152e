// Test-only helpers shared by integration tests against the repos (`@runline/db/test-support`, not in index.ts).
import { createTestNamespace, type TestNamespace } from "@runline/testing";
import type { Pool } from "pg";
import { migrate } from "./migrations";
import { createPool, type Queryable } from "./pool";
import { RunsRepo } from "./runs.repo";
import { ThreadsRepo } from "./threads.repo";

export interface RepoFixture {
  ns: TestNamespace;
  pool: Pool;
  runs: RunsRepo;
  threads: ThreadsRepo;
}

/**
 * A migrated schema of the test file's own, with its pool and repos, set up before the file's tests and removed
 * after them. Read the fields inside tests (they are assigned in `beforeAll`).
 */
export function useRepos(name: string): RepoFixture {
  const fixture = {} as RepoFixture;
  beforeAll(async () => {
    fixture.ns = await createTestNamespace(name);
    fixture.pool = createPool(fixture.ns.databaseUrl, fixture.ns.schema);
    await migrate(fixture.pool, fixture.ns.schema);
    fixture.runs = new RunsRepo(fixture.pool);
    fixture.threads = new ThreadsRepo(fixture.pool);
  });
  afterAll(async () => {
    await fixture.pool.end();
    await fixture.ns.cleanup();
  });
  return fixture;
}

let seq = 0;

/** Inserts a pending run of the story graph on the thread (through `db`, e.g. a transaction's client); its id. */
export async function insertRun(runs: RunsRepo, db: Queryable, threadId: string, tenantId: string): Promise<string> {
  const runId = `00000000-0000-4000-8000-${String(++seq).padStart(12, "0")}`;
  await runs.insert(db, {
    run_id: runId,
    thread_id: threadId,
    tenant_id: tenantId,
    assistant_id: "story",
    graph_id: "story",
    metadata: {},
    multitask_strategy: "enqueue",
    kwargs: {} as never,
  });
  return runId;
}
