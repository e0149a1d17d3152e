import type { Pool, PoolClient, QueryResult } from "pg";
import { PinnablePool } from "./pinned-pool";

/** Size and time limits of a pool; 0 turns a time limit off. */
export interface PoolSettings {
  /** Most connections open at once. @defaultValue 20 */
  max?: number;
  /** Longest opening a new connection to Postgres may take: longer means Postgres is unreachable. @defaultValue 5_000 */
  connectTimeoutMs?: number;
  /**
   * Longest `pool.connect()` (and so any `pool.query`) waits behind other callers for one of `max` connections:
   * a saturated pool is load, not a fault, so this is long. @defaultValue 60_000
   */
  queueTimeoutMs?: number;
  /** Longest one statement may run on the server, lock waits included (`statement_timeout`). @defaultValue 30_000 */
  statementTimeoutMs?: number;
  /** Longest a transaction may sit idle before the server ends its session (`idle_in_transaction_session_timeout`). @defaultValue 60_000 */
  idleInTransactionTimeoutMs?: number;
}

/**
 * A pool whose connections resolve unqualified table names in Runline's schema, with bounded waits: node-postgres
 * waits forever for a connection by default, so one stuck request could wedge every later one instead of failing.
 * The wait for a turn (load) and the wait for a new connection to open (a fault) are bounded separately.
 */
export function createPool(databaseUrl: string, schema: string, settings: PoolSettings = {}): Pool {
  const pool = new PinnablePool({
    connectionString: databaseUrl,
    max: settings.max ?? 20,
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 5_000,
    queueTimeoutMillis: settings.queueTimeoutMs ?? 60_000,
    statement_timeout: settings.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs ?? 60_000,
    options: `-c search_path="${schema}"`,
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled it would crash the process.
  pool.on("error", () => undefined);
  // So does a checked-out client between two queries (a transaction awaiting Redis while Postgres restarts):
  // the failure reaches the caller through its next query instead.
  pool.on("connect", (client) => client.on("error", () => undefined));
  return pool;
}

/** Something that can run a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<Pool, "query"> | PoolClient;

/**
 * Runs `fn` inside one transaction, rolling back if it throws. `opening`, statements with their values inlined
 * (no parameters), goes in the same round trip as `BEGIN` (e.g. {@link ThreadsRepo.lockStatement}); `fn` gets
 * their results, one per statement. In READ COMMITTED each of them takes its own snapshot, so a read placed after
 * a lock in the opening sees everything committed before the lock was granted.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient, opened: QueryResult[]) => Promise<T>, opening?: string): Promise<T> {
  const client = await pool.connect();
  try {
    const begun = await client.query(opening ? `BEGIN; ${opening}` : "BEGIN");
    const result = await fn(client, Array.isArray(begun) ? (begun as QueryResult[]).slice(1) : []);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
