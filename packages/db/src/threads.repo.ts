import type { ThreadRecord, ThreadStatus } from "@runline/core";
import type { Queryable } from "./pool";

const COLUMNS = "thread_id, tenant_id, status, metadata, config, created_at, updated_at";

function toThread(row: Record<string, unknown>): ThreadRecord {
  return {
    ...(row as unknown as ThreadRecord),
    created_at: (row.created_at as Date).toISOString(),
    updated_at: (row.updated_at as Date).toISOString(),
  };
}

/** Threads, always scoped to a tenant: another tenant's thread reads as missing. */
export class ThreadsRepo {
  constructor(private readonly db: Queryable) {}

  /** Inserts the thread; returns null when the id is already taken (by anyone). */
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

  /** Locks the thread row for the rest of the transaction: the serialisation point for runs on one thread. */
  async lock(db: Queryable, threadId: string): Promise<ThreadRecord | null> {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM threads WHERE thread_id = $1 FOR UPDATE`, [threadId]);
    return rows[0] ? toThread(rows[0]) : null;
  }

  async setStatus(db: Queryable, threadId: string, status: ThreadStatus): Promise<void> {
    await db.query(`UPDATE threads SET status = $2, updated_at = now() WHERE thread_id = $1`, [threadId, status]);
  }

  /**
   * A run is being added: checks the tenant, marks the thread busy with the graph it runs (LangGraph stamps
   * graph_id/assistant_id) and locks the row, all in one statement. The lock is the serialisation point for the
   * thread's runs until the transaction ends; an error later in it rolls the mark back. Null: missing or foreign.
   */
  async lockForNewRun(db: Queryable, tenantId: string, threadId: string, stamp: Record<string, unknown>): Promise<ThreadRecord | null> {
    const { rows } = await db.query(
      `UPDATE threads SET status = 'busy', metadata = metadata || $3::jsonb, updated_at = now()
       WHERE thread_id = $1 AND tenant_id = $2 RETURNING ${COLUMNS}`,
      [threadId, tenantId, stamp],
    );
    return rows[0] ? toThread(rows[0]) : null;
  }

  /** Merges keys into the thread's metadata (LangGraph stamps graph_id/assistant_id on the first run). */
  async mergeMetadata(db: Queryable, threadId: string, patch: Record<string, unknown>): Promise<void> {
    await db.query(`UPDATE threads SET metadata = metadata || $2::jsonb, updated_at = now() WHERE thread_id = $1`, [threadId, patch]);
  }
}
