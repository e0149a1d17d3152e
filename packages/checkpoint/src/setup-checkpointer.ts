import { createHash } from "node:crypto";
import type { Pool } from "pg";
import { BranchSafePostgresSaver, type BranchSafePostgresSaverOptions } from "./branch-safe-saver";

/** Anything with the saver's `setup()`; `schema` picks the lock key (one lock per checkpoint schema). */
export interface SetupableSaver {
  setup(): Promise<void>;
  readonly schema: string;
}

/**
 * The advisory-lock key guarding `setup()` of one schema: the first 8 bytes of
 * sha256("runline:checkpoint-setup:<schema>") as a signed bigint, in decimal.
 * Computed here rather than with Postgres' `hashtext` so the key does not depend on server internals.
 */
export function setupLockKey(schema: string): string {
  return createHash("sha256").update(`runline:checkpoint-setup:${schema}`).digest().readBigInt64BE(0).toString();
}

/** Per pool, per schema: the tail of the queue of setup calls made by this process. */
const inProcess = new WeakMap<Pool, Map<string, Promise<void>>>();

/**
 * Runs `saver.setup()` while holding a session-level `pg_advisory_lock` on one dedicated client from `pool`.
 *
 * `PostgresSaver.setup()` takes no lock itself: concurrent calls (N API replicas and M workers starting at
 * once) race on `CREATE SCHEMA`/`CREATE TABLE` and the migrations table, and all but one fail. Under the
 * lock they run one after another, and every later call finds the migrations already applied.
 *
 * `pool` must reach the same database as the saver and allow at least 2 connections when it is also the
 * saver's pool (the lock holds one while `setup()` takes another); it is not ended.
 */
export async function setupCheckpointer(saver: SetupableSaver, pool: Pool): Promise<void> {
  // With one connection the lock would hold it while setup() waits for another: a silent hang at start-up.
  if ((pool.options?.max ?? 10) < 2) throw new Error("setupCheckpointer needs a pool of at least 2 connections");
  // Calls in one process on one pool queue here rather than on the lock: otherwise each would park a pooled
  // client waiting for the lock, and with enough of them the holder's setup() could never get a client.
  let byPool = inProcess.get(pool);
  if (!byPool) inProcess.set(pool, (byPool = new Map()));
  const previous = byPool.get(saver.schema) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(() => setupUnderLock(saver, pool));
  byPool.set(saver.schema, mine);
  try {
    await mine;
  } finally {
    if (byPool.get(saver.schema) === mine) byPool.delete(saver.schema);
  }
}

async function setupUnderLock(saver: SetupableSaver, pool: Pool): Promise<void> {
  const key = setupLockKey(saver.schema);
  const client = await pool.connect();
  // Set when the connection itself failed: releasing with it destroys the connection, which ends the
  // session and so frees a lock we may still hold.
  let connectionError: Error | undefined;
  const onConnectionError = (err: Error): never => {
    connectionError = err;
    throw err;
  };
  try {
    await client.query("SELECT pg_advisory_lock($1::bigint)", [key]).catch(onConnectionError);
    try {
      await saver.setup();
    } finally {
      // An unlock failure must not mask setup's own outcome; destroying the connection frees the lock.
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [key]).catch((err: Error) => {
        connectionError = err;
      });
    }
  } finally {
    client.release(connectionError);
  }
}

/**
 * Creates a {@link BranchSafePostgresSaver} on the shared `pool` and sets up its tables in `schema`
 * (safely, see {@link setupCheckpointer}). Call once per process at start-up.
 */
export async function createCheckpointer(
  pool: Pool,
  schema: string,
  options: Omit<BranchSafePostgresSaverOptions, "schema"> = {},
): Promise<BranchSafePostgresSaver> {
  const saver = new BranchSafePostgresSaver(pool, { ...options, schema });
  await setupCheckpointer(saver, pool);
  return saver;
}
