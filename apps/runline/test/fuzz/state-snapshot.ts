import type { Pool } from "pg";
import type Redis from "ioredis";

/**
 * Keys that change on their own while nothing happens: BullMQ's stalled-job check (a key with a TTL it sets
 * every interval) and the worker heartbeat (its value carries the beat time).
 */
const VOLATILE_KEY = /:stalled-check$|:runline:workers:/;

/** Everything a request could have written, in one comparable map (`pg.*` rows, `redis.<key>` type and size). */
export type StateSnapshot = Record<string, string>;

/**
 * The state of one test namespace: row counts of the checkpoint tables, a digest of every threads and runs row
 * (so a status or metadata change shows, not only a new row), and each Redis key under the prefix with its
 * type and length (a job pushed onto an existing list shows too).
 */
export async function takeSnapshot(pool: Pool, redis: Redis, prefix: string): Promise<StateSnapshot> {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM checkpoints)::text AS checkpoints,
            (SELECT count(*) FROM checkpoint_writes)::text AS checkpoint_writes,
            (SELECT count(*) FROM checkpoint_blobs)::text AS checkpoint_blobs,
            (SELECT count(*) FROM threads)::text AS thread_count,
            (SELECT count(*) FROM runs)::text AS run_count,
            (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY thread_id), '')) FROM threads t) AS threads,
            (SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY run_id), '')) FROM runs r) AS runs`,
  );
  const snapshot: StateSnapshot = {};
  for (const [name, value] of Object.entries(rows[0] as Record<string, string>)) snapshot[`pg.${name}`] = value;

  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, page] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    keys.push(...page.filter((k) => !VOLATILE_KEY.test(k)));
  } while (cursor !== "0");
  keys.sort();
  const types = (await redis.pipeline(keys.map((k) => ["type", k])).exec()) ?? [];
  const sizeCommand: Record<string, string> = { list: "llen", zset: "zcard", hash: "hlen", set: "scard", stream: "xlen", string: "strlen" };
  const sizes = (await redis.pipeline(keys.map((k, i) => [sizeCommand[String(types[i]?.[1])] ?? "exists", k])).exec()) ?? [];
  keys.forEach((key, i) => {
    snapshot[`redis.${key.slice(prefix.length + 1)}`] = `${types[i]?.[1]}:${sizes[i]?.[1]}`;
  });
  return snapshot;
}

/** The entries that differ between two snapshots, as `name: before → after`. */
export function diffSnapshots(before: StateSnapshot, after: StateSnapshot): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => before[n] !== after[n]).map((n) => `${n}: ${before[n] ?? "-"} → ${after[n] ?? "-"}`);
}
