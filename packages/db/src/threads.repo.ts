import type { ThreadRecord, ThreadStatus } from "@runline/core";
import { escapeLiteral } from "pg";
import type { Queryable } from "./pool";

/** Filters of a thread search; all optional, combined with AND. */
export interface ThreadFilter {
  metadata?: Record<string, unknown> | null;
  ids?: string[] | null;
  status?: ThreadStatus | null;
}

export interface ThreadPage {
  sortBy: "thread_id" | "status" | "created_at" | "updated_at";
  sortOrder: "asc" | "desc";
  limit: number;
  offset: number;
}

const COLUMNS = "thread_id, tenant_id, status, metadata, config, created_at, updated_at";

function toThread(row: Record<string, unknown>): ThreadRecord {
  return {
    ...(row as unknown as ThreadRecord),
    created_at: (row.created_at as Date).toISOString(),
    updated_at: (row.updated_at as Date).toISOString(),
  };
}

/**
 * Threads. A thread is named by its storage key (`threadKey(tenant, id)` from @runline/core), never by the
 * public id: every `threadId` parameter and `thread_id` column here holds a key, so two tenants' threads of
 * the same public id are different rows. The tenant-scoped reads also check `tenant_id`, a second guard.
 */
export class ThreadsRepo {
  constructor(private readonly db: Queryable) {}

  /** Inserts the thread; returns null when the key is already taken (by the tenant itself: keys are per tenant). */
  async insert(tenantId: string, threadId: string, metadata: Record<string, unknown>, db: Queryable = this.db): Promise<ThreadRecord | null> {
    const { rows } = await db.query(
      `INSERT INTO threads (thread_id, tenant_id, metadata) VALUES ($1, $2, $3)
       ON CONFLICT (thread_id) DO NOTHING RETURNING ${COLUMNS}`,
      [threadId, tenantId, metadata],
    );
    return rows[0] ? toThread(rows[0]) : null;
  }

  async get(tenantId: string, threadId: string, db: Queryable = this.db): Promise<ThreadRecord | null> {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM threads WHERE thread_id = $1 AND tenant_id = $2`, [threadId, tenantId]);
    return rows[0] ? toThread(rows[0]) : null;
  }

  /** The tenant's threads matching the filter (metadata by JSON containment), one page, and the total count. */
  async search(tenantId: string, filter: ThreadFilter, page: ThreadPage): Promise<{ threads: ThreadRecord[]; total: number }> {
    // sortBy/sortOrder come from a validated enum; they are never user text.
    const { rows } = await this.db.query(
      `SELECT ${COLUMNS}, count(*) OVER () AS total FROM threads
       WHERE tenant_id = $1 AND ($2::jsonb IS NULL OR metadata @> $2::jsonb) AND ($3::text[] IS NULL OR thread_id = ANY($3))
         AND ($4::text IS NULL OR status = $4)
       ORDER BY ${page.sortBy} ${page.sortOrder === "asc" ? "ASC" : "DESC"}, thread_id LIMIT $5 OFFSET $6`,
      [tenantId, filter.metadata ?? null, filter.ids ?? null, filter.status ?? null, page.limit, page.offset],
    );
    const total = rows[0] ? Number(rows[0].total) : await this.count(tenantId, filter);
    return { threads: rows.map(toThread), total };
  }

  async count(tenantId: string, filter: ThreadFilter): Promise<number> {
    const { rows } = await this.db.query(
      `SELECT count(*)::int AS n FROM threads WHERE tenant_id = $1 AND ($2::jsonb IS NULL OR metadata @> $2::jsonb)
         AND ($3::text[] IS NULL OR thread_id = ANY($3)) AND ($4::text IS NULL OR status = $4)`,
      [tenantId, filter.metadata ?? null, filter.ids ?? null, filter.status ?? null],
    );
    return rows[0].n;
  }

  /** Merges keys into the tenant's thread metadata; null when missing or foreign. */
  async patchMetadata(tenantId: string, threadId: string, patch: Record<string, unknown>): Promise<ThreadRecord | null> {
    const { rows } = await this.db.query(
      `UPDATE threads SET metadata = metadata || $3::jsonb, updated_at = now() WHERE thread_id = $1 AND tenant_id = $2 RETURNING ${COLUMNS}`,
      [threadId, tenantId, patch],
    );
    return rows[0] ? toThread(rows[0]) : null;
  }

  /** Deletes the thread and (by cascade) its runs; false when missing or foreign. */
  async delete(tenantId: string, threadId: string, db: Queryable = this.db): Promise<boolean> {
    const { rowCount } = await db.query(`DELETE FROM threads WHERE thread_id = $1 AND tenant_id = $2`, [threadId, tenantId]);
    return rowCount === 1;
  }

  /**
   * The tenants holding a thread of this *public* id (at most `limit`), for the ops dashboard, which is not
   * tenant-scoped. A scan, not an index lookup: admin only, and rare.
   */
  async tenantsWithPublicId(publicThreadId: string, limit = 2): Promise<string[]> {
    const { rows } = await this.db.query<{ tenant_id: string }>(
      `SELECT tenant_id FROM threads WHERE thread_id = tenant_id || ':' || $1 ORDER BY tenant_id LIMIT $2`,
      [publicThreadId, limit],
    );
    return rows.map((r) => r.tenant_id);
  }

  /** Unscoped delete for the worker (a stateless run's own thread). */
  async deleteById(threadId: string): Promise<void> {
    await this.db.query(`DELETE FROM threads WHERE thread_id = $1`, [threadId]);
  }

  /**
   * {@link ThreadsRepo.lock} as a statement with the id inlined, to open a transaction with in the same round
   * trip (`withTransaction`'s `opening`).
   */
  static lockStatement(threadId: string): string {
    return `SELECT 1 FROM threads WHERE thread_id = ${escapeLiteral(threadId)} FOR UPDATE`;
  }

  /** Locks the thread row for the rest of the transaction: the serialisation point for runs on one thread. */
  async lock(db: Queryable, threadId: string): Promise<ThreadRecord | null> {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM threads WHERE thread_id = $1 FOR UPDATE`, [threadId]);
    return rows[0] ? toThread(rows[0]) : null;
  }

  /**
   * {@link ThreadsRepo.lock}, but refusing to wait: fails with Postgres' `lock_not_available` (55P03) when another
   * transaction holds the row (a state update or a run starting or ending). A waiter would park its pooled
   * connection behind the holder; failing at once gives the connection back and lets the client retry.
   */
  async lockNowait(db: Queryable, threadId: string): Promise<ThreadRecord | null> {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM threads WHERE thread_id = $1 FOR UPDATE NOWAIT`, [threadId]);
    return rows[0] ? toThread(rows[0]) : null;
  }

  /**
   * A run is being added: checks the tenant, marks the thread busy with the graph it runs (LangGraph stamps
   * graph_id/assistant_id) and locks the row, all in one statement. The lock is the serialisation point for the
   * thread's runs until the transaction ends; an error later in it rolls the mark back. No row: missing or foreign.
   * Values inlined, so it can open a transaction (see `withTransaction`).
   */
  static lockForNewRunStatement(tenantId: string, threadId: string, stamp: Record<string, unknown>): string {
    return `UPDATE threads SET status = 'busy', metadata = metadata || ${escapeLiteral(JSON.stringify(stamp))}::jsonb, updated_at = now()
       WHERE thread_id = ${escapeLiteral(threadId)} AND tenant_id = ${escapeLiteral(tenantId)} RETURNING ${COLUMNS}`;
  }

  /** {@link ThreadsRepo.lockForNewRunStatement} as a query of its own. Null: missing or foreign. */
  async lockForNewRun(db: Queryable, tenantId: string, threadId: string, stamp: Record<string, unknown>): Promise<ThreadRecord | null> {
    const { rows } = await db.query(ThreadsRepo.lockForNewRunStatement(tenantId, threadId, stamp));
    return rows[0] ? toThread(rows[0]) : null;
  }

  /** Merges keys into the thread's metadata (LangGraph stamps graph_id/assistant_id on the first run). */
  async mergeMetadata(db: Queryable, threadId: string, patch: Record<string, unknown>): Promise<void> {
    await db.query(`UPDATE threads SET metadata = metadata || $2::jsonb, updated_at = now() WHERE thread_id = $1`, [threadId, patch]);
  }
}
