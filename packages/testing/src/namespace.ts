import { randomBytes } from "node:crypto";
import { Pool } from "pg";
import Redis from "ioredis";

/** Everything one test file owns on the shared Redis and Postgres, so files can run in parallel. */
export interface TestNamespace {
  /** `t_<name>_<8 hex>`: prefix for ids, Redis keys and the Postgres schema. */
  id: string;
  /** Postgres schema private to this file (already created). */
  schema: string;
  /** BullMQ/journal prefix private to this file. */
  redisPrefix: string;
  redisUrl: string;
  databaseUrl: string;
  /** Pool whose connections use the private schema. */
  pool: Pool;
  redis: Redis;
  /** Drops the schema, unlinks every Redis key under the prefix and closes connections. */
  cleanup(): Promise<void>;
}

/** Default URLs for tests: the services `npm test` makes sure are running. */
export function testServiceUrls(): { redisUrl: string; databaseUrl: string } {
  return {
    redisUrl: process.env.REDIS_URL || "redis://127.0.0.1:6379",
    databaseUrl: process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres",
  };
}

/**
 * Creates a private Postgres schema and Redis prefix for one test file, on the shared test services or, with
 * `urls`, on other servers (e.g. the `startPrivateRedis` / `startPrivatePostgres` servers a fault-injection test
 * restarts). A URL left out falls back to {@link testServiceUrls}.
 */
export async function createTestNamespace(name: string, urls: { redisUrl?: string; databaseUrl?: string } = {}): Promise<TestNamespace> {
  const id = `t_${name.replace(/[^a-z0-9]+/gi, "_").toLowerCase()}_${randomBytes(4).toString("hex")}`;
  const defaults = testServiceUrls();
  const redisUrl = urls.redisUrl ?? defaults.redisUrl;
  const databaseUrl = urls.databaseUrl ?? defaults.databaseUrl;
  const admin = new Pool({ connectionString: databaseUrl, max: 1 });
  await admin.query(`CREATE SCHEMA "${id}"`);
  await admin.end();
  const pool = new Pool({ connectionString: databaseUrl, max: 10, options: `-c search_path="${id}"` });
  // Fault tests restart the servers under this pool and this connection: a lost connection must not crash jest.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on("error", () => undefined);
  const redisPrefix = `test:${id}`;
  return {
    id,
    schema: id,
    redisPrefix,
    redisUrl,
    databaseUrl,
    pool,
    redis,
    async cleanup() {
      await unlinkPrefix(redis, `${redisPrefix}:*`);
      await redis.quit();
      await pool.query(`DROP SCHEMA IF EXISTS "${id}" CASCADE`);
      await pool.end();
    },
  };
}

async function unlinkPrefix(redis: Redis, pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== "0");
}
