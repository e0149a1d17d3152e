import fs from "node:fs";
import Redis from "ioredis";
import { Client } from "pg";
import { createTestNamespace } from "./namespace";
import { startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis } from "./private-services";

// The fault-injection servers themselves: what survives which restart, what a pause and a kill look like to a
// client, and that stop() leaves nothing behind.

const started: Array<PrivateRedis | PrivatePostgres> = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

async function redisAt<T>(url: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
  // No retries: a test must see the server's state, not a client hiding it.
  const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, commandTimeout: 300 });
  redis.on("error", () => undefined);
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

async function sql(url: string, text: string): Promise<any[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.query(text)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe("private Redis", () => {
  it("keeps writes across a graceful restart and a SIGKILL crash with appendOnly", async () => {
    const redis = await startPrivateRedis({ appendOnly: true });
    started.push(redis);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.port).not.toBe(6379);
    await redisAt(redis.url, async (r) => {
      await r.set("k", "v1");
      expect(await r.get("k")).toBe("v1");
    });

    await redis.restart();
    await redisAt(redis.url, async (r) => {
      expect(await r.get("k")).toBe("v1");
      await r.set("k", "v2");
    });

    await redis.restart({ mode: "kill", downMs: 50 });
    expect(await redisAt(redis.url, (r) => r.get("k"))).toBe("v2");
  });

  it("loses everything on restart without appendOnly", async () => {
    const redis = await startPrivateRedis();
    started.push(redis);
    await redisAt(redis.url, (r) => r.set("k", "v"));
    await redis.restart();
    expect(await redisAt(redis.url, (r) => r.get("k"))).toBeNull();
  });

  it("answers nothing while paused and everything after resume; kill and start bring it back", async () => {
    const redis = await startPrivateRedis();
    started.push(redis);
    await redisAt(redis.url, async (r) => {
      await r.set("k", "v");
      redis.pause();
      await expect(r.get("k")).rejects.toThrow(/timed out/i);
      redis.resume();
      expect(await r.get("k")).toBe("v");
    });

    await redis.kill();
    await expect(redisAt(redis.url, (r) => r.ping())).rejects.toThrow();
    await redis.start();
    expect(await redisAt(redis.url, (r) => r.ping())).toBe("PONG");
  });

  it("stop() removes its directory and frees the port", async () => {
    const redis = await startPrivateRedis({ appendOnly: true });
    expect(fs.existsSync(redis.dir)).toBe(true);
    await redis.stop();
    expect(fs.existsSync(redis.dir)).toBe(false);
    await expect(redisAt(redis.url, (r) => r.ping())).rejects.toThrow();
  });
});

describe("private Postgres", () => {
  let pg: PrivatePostgres;
  beforeAll(async () => {
    pg = await startPrivatePostgres();
    started.push(pg);
  });

  it("keeps committed rows across fast, immediate and SIGKILL restarts", async () => {
    expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
    expect(pg.port).not.toBe(5432);
    await sql(pg.url, "CREATE TABLE t (id int PRIMARY KEY, v text)");
    await sql(pg.url, "INSERT INTO t VALUES (1, 'one')");

    await pg.restart({ mode: "fast" });
    expect(await sql(pg.url, "SELECT v FROM t WHERE id = 1")).toEqual([{ v: "one" }]);

    await sql(pg.url, "INSERT INTO t VALUES (2, 'two')");
    await pg.restart({ mode: "immediate" });
    await sql(pg.url, "INSERT INTO t VALUES (3, 'three')");
    await pg.restart({ mode: "kill", downMs: 50 });
    expect(await sql(pg.url, "SELECT id FROM t ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it("refuses connections after kill() until start()", async () => {
    await pg.kill();
    await expect(sql(pg.url, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);
    await pg.start();
    expect(await sql(pg.url, "SELECT count(*)::int AS n FROM t")).toEqual([{ n: 3 }]);
  });

  it("answers nothing while paused", async () => {
    const client = new Client({ connectionString: pg.url });
    client.on("error", () => undefined);
    await client.connect();
    try {
      pg.pause();
      const answered = await Promise.race([
        client.query("SELECT 1").then(() => "answered"),
        new Promise((r) => setTimeout(() => r("silent"), 300)),
      ]);
      expect(answered).toBe("silent");
      pg.resume();
      expect((await client.query("SELECT 2 AS n")).rows).toEqual([{ n: 2 }]);
    } finally {
      pg.resume();
      await client.end();
    }
  });

  it("hosts a test namespace (createTestNamespace with explicit URLs)", async () => {
    const redis = await startPrivateRedis();
    started.push(redis);
    const ns = await createTestNamespace("private", { redisUrl: redis.url, databaseUrl: pg.url });
    expect([ns.redisUrl, ns.databaseUrl]).toEqual([redis.url, pg.url]);
    await ns.pool.query("CREATE TABLE x (id int)");
    await ns.redis.set(`${ns.redisPrefix}:k`, "v");
    const schemas = () => sql(pg.url, `SELECT 1 FROM information_schema.schemata WHERE schema_name = '${ns.schema}'`);
    expect(await schemas()).toHaveLength(1);
    await ns.cleanup();
    expect(await schemas()).toHaveLength(0);
    expect(await redisAt(redis.url, (r) => r.dbsize())).toBe(0);
  });

  it("stop() removes the data directory, also after a kill", async () => {
    const other = await startPrivatePostgres();
    expect(fs.existsSync(`${other.dir}/data/PG_VERSION`)).toBe(true);
    await other.kill();
    await other.stop();
    expect(fs.existsSync(other.dir)).toBe(false);
    await expect(sql(other.url, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);
  });
});
