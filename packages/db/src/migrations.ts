import type { Pool } from "pg";

/** What `runline_assert_attempt_owner` raises for an attempt that no longer owns its run (class RL: Runline's). */
export const ATTEMPT_FENCED_SQLSTATE = "RLF01";

/** Ordered, append-only schema changes. Never edit a shipped entry: add a new one. */
const MIGRATIONS: string[] = [
  `CREATE TABLE threads (
     thread_id   text PRIMARY KEY,
     tenant_id   text NOT NULL,
     status      text NOT NULL DEFAULT 'idle',
     metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
     config      jsonb NOT NULL DEFAULT '{}'::jsonb,
     created_at  timestamptz NOT NULL DEFAULT now(),
     updated_at  timestamptz NOT NULL DEFAULT now()
   );
   CREATE INDEX threads_tenant_created ON threads (tenant_id, created_at DESC);
   CREATE TABLE runs (
     run_id              text PRIMARY KEY,
     thread_id           text NOT NULL REFERENCES threads (thread_id) ON DELETE CASCADE,
     tenant_id           text NOT NULL,
     assistant_id        text NOT NULL,
     graph_id            text NOT NULL,
     status              text NOT NULL DEFAULT 'pending',
     metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
     multitask_strategy  text NOT NULL,
     kwargs              jsonb NOT NULL,
     attempt             integer NOT NULL DEFAULT 0,
     error               jsonb,
     dispatched_at       timestamptz,
     cancel_requested_at timestamptz,
     cancel_action       text,
     partial             jsonb,
     created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
     updated_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
     started_at          timestamptz,
     finished_at         timestamptz
   );
   CREATE INDEX runs_thread_created ON runs (thread_id, created_at);
   CREATE INDEX runs_active ON runs (thread_id, created_at) WHERE status IN ('pending', 'running');`,
  // The thread head when the run first started: where a rollback returns to, and how a worker that takes over
  // a dead worker's run tells the dead attempt's checkpoints apart.
  `ALTER TABLE runs ADD COLUMN start_checkpoint_id text, ADD COLUMN start_checkpoint_recorded boolean NOT NULL DEFAULT false;`,
  // When the run's terminal `end` event was written to the journal (and its temporary thread deleted): a run
  // that is terminal but not announced lost its announcement to a crash, and the reconciler writes it.
  `ALTER TABLE runs ADD COLUMN end_announced_at timestamptz;
   UPDATE runs SET end_announced_at = coalesce(finished_at, clock_timestamp()) WHERE status NOT IN ('pending', 'running');
   CREATE INDEX runs_unannounced ON runs (finished_at) WHERE end_announced_at IS NULL;
   CREATE INDEX runs_in_flight ON runs (updated_at) WHERE status IN ('pending', 'running');`,
  // Attempts that ended by handing the run on (a worker draining on deploy): they do not count as lost.
  `ALTER TABLE runs ADD COLUMN handoffs integer NOT NULL DEFAULT 0;`,
  // Protocol v2 numbers a thread's events across its runs (seq): each run gets its ordinal in the thread,
  // assigned in the create transaction from a counter on the thread row (locked there), so it is durable, never
  // reused after a run is deleted, and the same in every API process.
  `ALTER TABLE threads ADD COLUMN run_seq integer NOT NULL DEFAULT 0;
   ALTER TABLE runs ADD COLUMN thread_seq integer;
   UPDATE runs SET thread_seq = n.seq FROM (
     SELECT run_id, row_number() OVER (PARTITION BY thread_id ORDER BY created_at, run_id) AS seq FROM runs
   ) n WHERE runs.run_id = n.run_id;
   UPDATE threads SET run_seq = c.n FROM (SELECT thread_id, max(thread_seq) AS n FROM runs GROUP BY thread_id) c
     WHERE threads.thread_id = c.thread_id;
   ALTER TABLE runs ALTER COLUMN thread_seq SET NOT NULL;
   CREATE UNIQUE INDEX runs_thread_seq ON runs (thread_id, thread_seq);`,
  // The per-tenant active-run quota counts these on every run creation (issue #9).
  `CREATE INDEX runs_active_tenant ON runs (tenant_id) WHERE status IN ('pending', 'running');`,
  // Thread ids scoped by tenant (issue #9): every table names a thread by its storage key `<tenant>:<id>`
  // (packages/core thread-key.ts), so two tenants can hold the same public id and one learns nothing of the
  // other's. Runs follow their thread through the foreign key (now ON UPDATE CASCADE); LangGraph's checkpoint
  // tables are converted first, while the old ids still join to their thread. Their rows of threads that no
  // longer exist keep the old id: nothing can reach them, and no key (it always holds ':') can equal it. The
  // checkpoint tables are created after this file's migrations on a new schema, hence the existence checks.
  // One transaction, recorded with its version (see migrate): it applies exactly once, or not at all.
  `ALTER TABLE runs DROP CONSTRAINT runs_thread_id_fkey;
   ALTER TABLE runs ADD CONSTRAINT runs_thread_id_fkey FOREIGN KEY (thread_id) REFERENCES threads (thread_id)
     ON DELETE CASCADE ON UPDATE CASCADE;
   DO $$
   DECLARE tbl text;
   BEGIN
     FOREACH tbl IN ARRAY ARRAY['checkpoints', 'checkpoint_blobs', 'checkpoint_writes'] LOOP
       IF to_regclass(tbl) IS NOT NULL THEN
         EXECUTE format('UPDATE %I c SET thread_id = t.tenant_id || '':'' || t.thread_id FROM threads t WHERE c.thread_id = t.thread_id', tbl);
       END IF;
     END LOOP;
   END $$;
   UPDATE threads SET thread_id = tenant_id || ':' || thread_id;`,
  // The checkpoint fence as one statement that fails (issue #12): a write transaction then goes to Postgres as
  // one batch, and a refused attempt stops it before any of its inserts. FOR SHARE holds off a takeover until
  // the write's transaction ends.
  `CREATE OR REPLACE FUNCTION runline_assert_attempt_owner(p_run_id text, p_attempt integer) RETURNS void LANGUAGE plpgsql AS $fn$
   BEGIN
     PERFORM 1 FROM runs WHERE run_id = p_run_id AND attempt = p_attempt AND status = 'running' FOR SHARE;
     IF NOT FOUND THEN
       RAISE EXCEPTION 'attempt % of run % no longer owns it', p_attempt, p_run_id USING ERRCODE = '${ATTEMPT_FENCED_SQLSTATE}';
     END IF;
   END $fn$;`,
];

/** Creates the schema and applies pending migrations; safe to call from several processes at once. */
export async function migrate(pool: Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    // Concurrent starts (API + workers) would race on CREATE TABLE; one advisory lock per schema serialises them.
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [`runline-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".runline_migrations (v integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number }>(`SELECT coalesce(max(v), -1) AS v FROM "${schema}".runline_migrations`);
    for (let v = rows[0].v + 1; v < MIGRATIONS.length; v++) {
      await client.query("BEGIN");
      await client.query(`SET LOCAL search_path = "${schema}"`);
      await client.query(MIGRATIONS[v]);
      await client.query(`INSERT INTO "${schema}".runline_migrations (v) VALUES ($1)`, [v]);
      await client.query("COMMIT");
    }
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext($1))", [`runline-migrate:${schema}`]).catch(() => undefined);
    client.release();
  }
}
