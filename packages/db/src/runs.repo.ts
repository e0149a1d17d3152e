import type { CancelAction, RunPartial, RunRecord, RunStatus, TerminalRunStatus, ThreadStatus } from "@runline/core";
import { escapeLiteral, type QueryResult } from "pg";
import { ATTEMPT_FENCED_SQLSTATE } from "./migrations";
import type { Queryable } from "./pool";

const COLUMNS = `run_id, thread_id, tenant_id, assistant_id, graph_id, status, metadata, multitask_strategy, kwargs,
  attempt, handoffs, error, cancel_action, cancel_requested_at, partial, start_checkpoint_id, start_checkpoint_recorded, thread_seq, created_at, updated_at, started_at, finished_at`;

function iso(value: unknown): string | null {
  return value instanceof Date ? value.toISOString() : null;
}

function toRun(row: Record<string, unknown>): RunRecord {
  return {
    ...(row as unknown as RunRecord),
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
    cancel_requested_at: iso(row.cancel_requested_at),
  };
}

/** The quota's two counts over the active runs, `tenant` and `all` (select them FROM the runs pending or running). */
function quotaCountColumns(tenantId: string): string {
  return `count(*) FILTER (WHERE tenant_id = ${escapeLiteral(tenantId)})::int AS tenant, count(*)::int AS "all"`;
}

/** Runs pending or running, of one tenant and of all, for the active-run quota. */
export interface QuotaCounts {
  tenant: number;
  all: number;
}

/** A run claimed for the queue, and how long it must wait there (`after_seconds`). */
export interface Dispatch {
  runId: string;
  delayMs: number;
}

/** A run as its worker polls it (see `RunsRepo.controlStates`). */
export interface RunControlRow {
  run_id: string;
  status: RunStatus;
  attempt: number;
  cancel_action: CancelAction | null;
  cancel_requested: boolean;
}

export type NewRun = Pick<
  RunRecord,
  "run_id" | "thread_id" | "tenant_id" | "assistant_id" | "graph_id" | "metadata" | "multitask_strategy" | "kwargs"
>;

/** How {@link RunsRepo.finishOnThread} finishes a run: the compare-and-set and what the run and thread get. */
export interface FinishExtra {
  error?: { error: string; message: string } | null;
  partial?: RunPartial | null;
  from: RunStatus[];
  /** Only while this attempt owns the run. */
  attempt?: number;
  threadStatus: ThreadStatus;
}

export interface FinishedOnThread {
  run: RunRecord;
  /** Another run of the thread is pending or running. */
  stillActive: boolean;
}

/**
 * Runs. Every status change is a compare-and-set, so a late writer cannot overwrite a terminal status. A run's
 * `thread_id` is its thread's storage key (see ThreadsRepo), and so is every `threadId` parameter here.
 */
export class RunsRepo {
  constructor(private readonly db: Queryable) {}

  /**
   * Inserts a pending run (the dispatcher then decides, under the same thread lock, whether it goes to the queue).
   * `dispatched`: the caller already knows the run is its thread's next (nothing else of the thread is active),
   * so it is claimed for the queue in the same statement, as {@link claimNextForDispatch} would claim it.
   */
  async insert(db: Queryable, run: NewRun, opts: { dispatched?: boolean } = {}): Promise<RunRecord> {
    const { rows } = await db.query(
      // The run's ordinal in its thread comes from the thread's counter, in this transaction (see migration 5).
      `WITH t AS (UPDATE threads SET run_seq = run_seq + 1 WHERE thread_id = $2 RETURNING run_seq)
       INSERT INTO runs (run_id, thread_id, tenant_id, assistant_id, graph_id, metadata, multitask_strategy, kwargs, thread_seq, dispatched_at)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, t.run_seq, CASE WHEN $9::boolean THEN clock_timestamp() END FROM t RETURNING ${COLUMNS}`,
      [run.run_id, run.thread_id, run.tenant_id, run.assistant_id, run.graph_id, run.metadata, run.multitask_strategy, run.kwargs, opts.dispatched === true],
    );
    return toRun(rows[0]);
  }

  /**
   * The thread's runs with an ordinal above `afterSeq`, oldest first, at most `limit` (protocol v2 streams
   * follow a thread run by run), of the tenant only. `afterSeq` null = where a new connection starts: the oldest
   * unfinished run, or the latest run when every run is finished.
   */
  async listByThreadSeq(tenantId: string, threadId: string, afterSeq: number | null, limit: number): Promise<RunRecord[]> {
    const { rows } = afterSeq === null
      ? await this.db.query(
          `SELECT ${COLUMNS} FROM runs WHERE thread_id = $1 AND tenant_id = $2 AND thread_seq >= COALESCE(
             (SELECT min(thread_seq) FROM runs WHERE thread_id = $1 AND tenant_id = $2 AND status IN ('pending', 'running')),
             (SELECT max(thread_seq) FROM runs WHERE thread_id = $1 AND tenant_id = $2))
           ORDER BY thread_seq LIMIT $3`,
          [threadId, tenantId, limit],
        )
      : await this.db.query(`SELECT ${COLUMNS} FROM runs WHERE thread_id = $1 AND tenant_id = $2 AND thread_seq > $3 ORDER BY thread_seq LIMIT $4`, [
          threadId,
          tenantId,
          afterSeq,
          limit,
        ]);
    return rows.map(toRun);
  }

  /** A run of the tenant's thread, or null (missing and foreign look the same). */
  async get(tenantId: string, threadId: string, runId: string): Promise<RunRecord | null> {
    const { rows } = await this.db.query(`SELECT ${COLUMNS} FROM runs WHERE run_id = $1 AND thread_id = $2 AND tenant_id = $3`, [
      runId,
      threadId,
      tenantId,
    ]);
    return rows[0] ? toRun(rows[0]) : null;
  }

  /** Unscoped read for the worker, which acts on behalf of whoever created the run. */
  async getById(runId: string, db: Queryable = this.db): Promise<RunRecord | null> {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM runs WHERE run_id = $1`, [runId]);
    return rows[0] ? toRun(rows[0]) : null;
  }

  async list(tenantId: string, threadId: string, opts: { limit: number; offset: number; status?: RunStatus }): Promise<RunRecord[]> {
    const { rows } = await this.db.query(
      `SELECT ${COLUMNS} FROM runs WHERE thread_id = $1 AND tenant_id = $2 AND ($3::text IS NULL OR status = $3)
       ORDER BY created_at DESC, run_id DESC LIMIT $4 OFFSET $5`,
      [threadId, tenantId, opts.status ?? null, opts.limit, opts.offset],
    );
    return rows.map(toRun);
  }

  async listActive(db: Queryable, threadId: string): Promise<RunRecord[]> {
    const { rows } = await db.query(
      `SELECT ${COLUMNS} FROM runs WHERE thread_id = $1 AND status IN ('pending', 'running') ORDER BY created_at, run_id`,
      [threadId],
    );
    return rows.map(toRun);
  }

  /**
   * Takes the tenant's transaction-scoped advisory lock for the active-run quota, inside a savepoint so that
   * {@link RunsRepo.dropQuotaLock} can give it back (upgrading a lock held shared could deadlock two upgraders).
   * `exclusive` serialises the tenant's creations (two cannot both see room for one more run). `shared` only waits
   * for an exclusive holder. See `RunAdmission` for which one a creation needs. Values inlined, so it can open a
   * transaction (see `withTransaction`); the counts must be read in a later statement, after the lock is held.
   */
  static quotaLockStatement(tenantId: string, lock: "shared" | "exclusive"): string {
    const key = escapeLiteral(`runline-quota:${tenantId}`);
    return `SAVEPOINT runline_quota; SELECT ${lock === "shared" ? "pg_advisory_xact_lock_shared" : "pg_advisory_xact_lock"}(hashtext(${key}))`;
  }

  /**
   * What a new run on the thread must know, in one statement: the thread's active runs (ids, oldest first) and
   * the runs pending or running, the tenant's and everyone's, for the quota. Read it after the thread lock and the
   * quota lock (in a later statement: its snapshot then holds every run committed before they were granted). The
   * global count is never serialised: it may overshoot by the tenants creating at once. Values inlined, like
   * {@link RunsRepo.quotaLockStatement}; read its result with {@link RunsRepo.readActiveForNewRun}.
   */
  static activeForNewRunStatement(threadId: string, tenantId: string): string {
    return `SELECT (SELECT coalesce(array_agg(run_id ORDER BY created_at, run_id), '{}') FROM runs
               WHERE thread_id = ${escapeLiteral(threadId)} AND status IN ('pending', 'running')) AS active,
             ${quotaCountColumns(tenantId)} FROM runs WHERE status IN ('pending', 'running')`;
  }

  static readActiveForNewRun(result: QueryResult): { activeRunIds: string[]; quota: QuotaCounts } {
    const row = result.rows[0];
    return { activeRunIds: row.active, quota: { tenant: row.tenant, all: row.all } };
  }

  /** The quota's counts (see {@link RunsRepo.activeForNewRunStatement}), read after taking the quota lock here. */
  async countActiveForQuota(tx: Queryable, tenantId: string, lock: "shared" | "exclusive"): Promise<QuotaCounts> {
    // Its own round trip: the count's snapshot must be taken after the lock is held.
    await tx.query(RunsRepo.quotaLockStatement(tenantId, lock));
    const { rows } = await tx.query(`SELECT ${quotaCountColumns(tenantId)} FROM runs WHERE status IN ('pending', 'running')`);
    return { tenant: rows[0].tenant, all: rows[0].all };
  }

  /** Releases the quota lock of {@link RunsRepo.quotaLockStatement} (a rollback to its savepoint releases it). */
  async dropQuotaLock(tx: Queryable): Promise<void> {
    await tx.query("ROLLBACK TO SAVEPOINT runline_quota; RELEASE SAVEPOINT runline_quota");
  }

  /** Postgres' `max_connections`: no more transactions than this can be open at once, on any number of processes. */
  async maxConnections(db: Queryable = this.db): Promise<number> {
    const { rows } = await db.query("SHOW max_connections");
    return Number(rows[0].max_connections);
  }

  /** The tenant's active runs matching a cancel-many request. */
  async listActiveForTenant(tenantId: string, filter: { threadId?: string; runIds?: string[]; status?: "pending" | "running" | "all" }): Promise<RunRecord[]> {
    const statuses = !filter.status || filter.status === "all" ? ["pending", "running"] : [filter.status];
    const { rows } = await this.db.query(
      `SELECT ${COLUMNS} FROM runs WHERE tenant_id = $1 AND status = ANY($2::text[])
         AND ($3::text IS NULL OR thread_id = $3) AND ($4::text[] IS NULL OR run_id = ANY($4)) ORDER BY created_at, run_id`,
      [tenantId, statuses, filter.threadId ?? null, filter.runIds ?? null],
    );
    return rows.map(toRun);
  }

  /** Every tenant's active runs, oldest first (the ops dashboard; admin only). */
  async listActiveAll(limit = 200): Promise<RunRecord[]> {
    const { rows } = await this.db.query(
      `SELECT ${COLUMNS} FROM runs WHERE status IN ('pending', 'running') ORDER BY created_at, run_id LIMIT $1`,
      [limit],
    );
    return rows.map(toRun);
  }

  /** Every tenant's most recently finished runs, optionally of one terminal status (the ops dashboard; admin only). */
  async listRecentFinished(opts: { status?: TerminalRunStatus; limit?: number } = {}): Promise<RunRecord[]> {
    const { rows } = await this.db.query(
      `SELECT ${COLUMNS} FROM runs WHERE status NOT IN ('pending', 'running') AND ($1::text IS NULL OR status = $1)
       ORDER BY finished_at DESC NULLS LAST, run_id DESC LIMIT $2`,
      [opts.status ?? null, opts.limit ?? 50],
    );
    return rows.map(toRun);
  }

  /** Active runs of a thread, read outside any transaction. */
  async listActiveNow(threadId: string): Promise<RunRecord[]> {
    return this.listActive(this.db, threadId);
  }

  /**
   * Picks the run that should go to the queue next on this thread, or null when one is already in flight
   * (running, or dispatched and waiting for a worker). Call with the thread row locked.
   */
  async claimNextForDispatch(db: Queryable, threadId: string): Promise<Dispatch | null> {
    // One statement: the pick and the claim (the caller holds the thread lock, so nobody claims in between).
    const { rows } = await db.query<{ run_id: string; in_flight: boolean; delay_ms: number }>(
      `WITH next AS (
         SELECT run_id, (status = 'running' OR dispatched_at IS NOT NULL) AS in_flight,
           greatest(0, extract(epoch FROM created_at + make_interval(secs => coalesce((kwargs->>'after_seconds')::float8, 0)) - clock_timestamp()) * 1000)::float8 AS delay_ms
         FROM runs
         WHERE thread_id = $1 AND status IN ('pending', 'running')
         ORDER BY (status = 'running' OR dispatched_at IS NOT NULL) DESC, created_at, run_id LIMIT 1
       ), claimed AS (
         UPDATE runs SET dispatched_at = clock_timestamp(), updated_at = clock_timestamp()
         FROM next WHERE runs.run_id = next.run_id AND NOT next.in_flight RETURNING runs.run_id
       )
       SELECT next.* FROM next JOIN claimed USING (run_id)`,
      [threadId],
    );
    return rows[0] ? { runId: rows[0].run_id, delayMs: Math.round(rows[0].delay_ms) } : null;
  }

  /**
   * pending → running, and remembers the thread head at this first start (where a rollback returns to). The head
   * is read from the LangGraph checkpoints table in the same schema, in the same statement, to save round trips
   * on the way to the first token. Returns null if the run was no longer pending (cancelled, or already taken).
   */
  async markRunning(runId: string): Promise<RunRecord | null> {
    const { rows } = await this.db.query(
      `UPDATE runs SET status = 'running', attempt = attempt + 1, started_at = clock_timestamp(), updated_at = clock_timestamp(),
         start_checkpoint_id = (SELECT c.checkpoint_id FROM checkpoints c WHERE c.thread_id = runs.thread_id AND c.checkpoint_ns = ''
                                ORDER BY c.checkpoint_id DESC LIMIT 1),
         start_checkpoint_recorded = true
       WHERE run_id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
      [runId],
    );
    return rows[0] ? toRun(rows[0]) : null;
  }

  /** A worker taking over a run whose previous owner died: same status, next attempt. */
  async markRetried(runId: string): Promise<RunRecord | null> {
    const { rows } = await this.db.query(
      `UPDATE runs SET attempt = attempt + 1, updated_at = clock_timestamp()
       WHERE run_id = $1 AND status = 'running' RETURNING ${COLUMNS}`,
      [runId],
    );
    return rows[0] ? toRun(rows[0]) : null;
  }

  /**
   * Moves an active run to a terminal status and sets the thread's status after it, in one statement: `busy` while
   * another run of the thread is pending or running, `threadStatus` otherwise. Call with the thread row locked, in
   * a statement after the lock: this statement's snapshot then holds every run committed by whoever held the lock
   * before. Null when the compare-and-set failed (already terminal, not in one of `from`, or — with `attempt` —
   * owned by another attempt now: a superseded attempt's finish is refused, not merged); the thread is left as it was.
   */
  async finishOnThread(db: Queryable, runId: string, threadId: string, status: TerminalRunStatus, extra: FinishExtra): Promise<FinishedOnThread | null> {
    return RunsRepo.readFinishOnThread(await db.query(RunsRepo.finishOnThreadStatement(runId, threadId, status, extra)));
  }

  /**
   * {@link finishOnThread}'s statement with its values inlined, so it can go in the round trip that opens the
   * transaction and takes the thread lock (`withTransaction`'s `opening`): a finish is then BEGIN + lock + finish,
   * then COMMIT, two round trips instead of three, on every run's end and every cancel's critical path.
   */
  static finishOnThreadStatement(runId: string, threadId: string, status: TerminalRunStatus, extra: FinishExtra): string {
    const { attempt } = extra;
    if (attempt !== undefined && !Number.isSafeInteger(attempt)) throw new TypeError(`attempt must be an integer, got ${attempt}`);
    const json = (value: unknown) => (value == null ? "NULL" : escapeLiteral(JSON.stringify(value)));
    const run = escapeLiteral(runId);
    const thread = escapeLiteral(threadId);
    const from = `ARRAY[${extra.from.map((s) => escapeLiteral(s)).join(", ")}]::text[]`;
    return `WITH finished AS (
         UPDATE runs SET status = ${escapeLiteral(status)}, error = ${json(extra.error)}::jsonb, partial = coalesce(${json(extra.partial)}::jsonb, partial),
           finished_at = clock_timestamp(), updated_at = clock_timestamp()
         WHERE run_id = ${run} AND status = ANY(${from})${attempt === undefined ? "" : ` AND attempt = ${attempt}`} RETURNING ${COLUMNS}
       ), others AS (
         -- The snapshot predates the update above: this run still reads as active, hence run_id <> the run.
         SELECT EXISTS (SELECT 1 FROM runs WHERE thread_id = ${thread} AND status IN ('pending', 'running') AND run_id <> ${run}) AS still_active
       ), thread AS (
         UPDATE threads SET status = CASE WHEN others.still_active THEN 'busy' ELSE ${escapeLiteral(extra.threadStatus)} END, updated_at = now()
         FROM finished, others WHERE threads.thread_id = ${thread} RETURNING 1
       )
       SELECT finished.*, others.still_active FROM finished, others`;
  }

  /** What {@link finishOnThreadStatement} answered: the finished run, or null when the compare-and-set failed. */
  static readFinishOnThread(result: QueryResult): FinishedOnThread | null {
    const row = result.rows[0];
    if (!row) return null;
    const { still_active, ...run } = row;
    return { run: toRun(run), stillActive: still_active === true };
  }

  /** Records that the run's terminal event is in the journal (see the reconciler). */
  async markAnnounced(runId: string): Promise<void> {
    await this.db.query(`UPDATE runs SET end_announced_at = clock_timestamp() WHERE run_id = $1 AND end_announced_at IS NULL`, [runId]);
  }

  /** What a worker needs to know about the runs it executes: cancelled, superseded, or ended elsewhere. */
  async controlStates(runIds: string[]): Promise<RunControlRow[]> {
    if (!runIds.length) return [];
    const { rows } = await this.db.query<RunControlRow>(
      `SELECT run_id, status, attempt, cancel_action, cancel_requested_at IS NOT NULL AS cancel_requested FROM runs WHERE run_id = ANY($1::text[])`,
      [runIds],
    );
    return rows;
  }

  /** Terminal runs whose `end` was never announced, finished more than `graceMs` ago (the reconciler). */
  async listUnannounced(graceMs: number, limit: number): Promise<RunRecord[]> {
    const { rows } = await this.db.query(
      `SELECT ${COLUMNS} FROM runs WHERE end_announced_at IS NULL AND status NOT IN ('pending', 'running')
         AND finished_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000) ORDER BY finished_at LIMIT $2`,
      [graceMs, limit],
    );
    return rows.map(toRun);
  }

  /**
   * Runs that should have a job on the queue (running, or pending and dispatched) and have not changed for
   * `graceMs`: the reconciler checks each against BullMQ.
   */
  async listInFlight(graceMs: number, limit: number, after: { updatedAt: string; runId: string } | null = null): Promise<RunRecord[]> {
    // Keyset paging: healthy long runs never change, so without it the same oldest page would be read forever.
    const { rows } = await this.db.query(
      `SELECT ${COLUMNS} FROM runs WHERE status IN ('pending', 'running') AND (status = 'running' OR dispatched_at IS NOT NULL)
         AND updated_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)
         AND ($3::timestamptz IS NULL OR (updated_at, run_id) > ($3::timestamptz, $4::text))
       ORDER BY updated_at, run_id LIMIT $2`,
      [graceMs, limit, after?.updatedAt ?? null, after?.runId ?? null],
    );
    return rows.map(toRun);
  }

  /** Threads with a queued run but nothing in flight for `graceMs`: their next run was never dispatched. */
  async listStalledThreads(graceMs: number, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ thread_id: string }>(
      `SELECT DISTINCT r.thread_id FROM runs r WHERE r.status = 'pending' AND r.dispatched_at IS NULL
         AND r.updated_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)
         AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id AND (o.status = 'running' OR (o.status = 'pending' AND o.dispatched_at IS NOT NULL)))
       LIMIT $2`,
      [graceMs, limit],
    );
    return rows.map((r) => r.thread_id);
  }

  /** Counts a hand-off of `attempt` (drain): the next attempt does not count it as lost. False when superseded. */
  async recordHandoff(runId: string, attempt: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE runs SET handoffs = handoffs + 1, updated_at = clock_timestamp() WHERE run_id = $1 AND attempt = $2 AND status = 'running'`,
      [runId, attempt],
    );
    return rowCount === 1;
  }

  /** Restarts the reconciler's grace period for a run it just put back on the queue. */
  async touch(runId: string): Promise<void> {
    await this.db.query(`UPDATE runs SET updated_at = clock_timestamp() WHERE run_id = $1 AND status IN ('pending', 'running')`, [runId]);
  }

  /**
   * A statement that fails with {@link ATTEMPT_FENCED_SQLSTATE} unless `attempt` still owns the running run; the
   * checkpoint fence runs it first in every write transaction of the attempt. It locks the run row `FOR SHARE`,
   * which holds off a takeover (an update of the row) until the write commits, so a write is either before the
   * takeover or refused. The write goes out as one simple-protocol query, which takes no parameters, so the two
   * values are inlined: the id escaped, the attempt an integer.
   * @throws TypeError if `attempt` is not an integer.
   */
  static ownerAssertionSql(runId: string, attempt: number): string {
    if (!Number.isSafeInteger(attempt)) throw new TypeError(`attempt must be an integer, got ${attempt}`);
    return `SELECT runline_assert_attempt_owner(${escapeLiteral(runId)}, ${attempt})`;
  }

  /** Whether an error is {@link ownerAssertionSql}'s refusal. */
  static isFencedError(err: unknown): boolean {
    return (err as { code?: unknown } | null)?.code === ATTEMPT_FENCED_SQLSTATE;
  }

  /** Deletes a finished run of the tenant's thread; false when missing, foreign or still active. */
  async deleteFinished(tenantId: string, threadId: string, runId: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `DELETE FROM runs WHERE run_id = $1 AND thread_id = $2 AND tenant_id = $3 AND status NOT IN ('pending', 'running')`,
      [runId, threadId, tenantId],
    );
    return rowCount === 1;
  }

  /**
   * Records a cancel request on an active run and returns it; null when the run is already terminal, or (with
   * `scope`, a request's ids) missing or not of the tenant's thread.
   */
  async requestCancel(runId: string, action: CancelAction, db: Queryable = this.db, scope?: { tenantId: string; threadId: string }): Promise<RunRecord | null> {
    const { rows } = await db.query(
      `UPDATE runs SET cancel_requested_at = coalesce(cancel_requested_at, clock_timestamp()),
         cancel_action = coalesce(cancel_action, $2), updated_at = clock_timestamp()
       WHERE run_id = $1 AND ($3::text IS NULL OR (thread_id = $3 AND tenant_id = $4)) AND status IN ('pending', 'running')
       RETURNING ${COLUMNS}`,
      [runId, action, scope?.threadId ?? null, scope?.tenantId ?? null],
    );
    return rows[0] ? toRun(rows[0]) : null;
  }
}
