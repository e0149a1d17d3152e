import { Pool, type PoolClient } from "pg";

/** A pool whose connections resolve unqualified table names in Runline's schema. */
export function createPool(databaseUrl: string, schema: string, max = 20): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max, options: `-c search_path="${schema}"` });
  // An idle client losing its connection emits 'error' on the pool; unhandled it would crash the process.
  pool.on("error", () => undefined);
  return pool;
}

/** Something that can run a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<Pool, "query"> | PoolClient;

/** Runs `fn` inside one transaction, rolling back if it throws. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
