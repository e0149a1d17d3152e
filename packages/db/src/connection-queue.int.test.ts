import { setTimeout as sleep } from "node:timers/promises";
import { ConnectionQueue, PoolQueueTimeoutError } from "./connection-queue";
import { PinnablePool } from "./pinned-pool";
import { createPool } from "./pool";

const databaseUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

async function until(condition: () => boolean, deadlineMs = 5_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(5);
  }
}

describe("ConnectionQueue", () => {
  it("grants slots in arrival order and hands a released slot to the longest waiter", async () => {
    const queue = new ConnectionQueue(1, 0);
    const order: number[] = [];
    await queue.acquire();
    const waits = [1, 2, 3].map((n) => queue.acquire().then(() => order.push(n)));
    expect(queue.waiting).toBe(3);
    for (let i = 0; i < 3; i++) {
      queue.release();
      await waits[i];
    }
    expect(order).toEqual([1, 2, 3]);
    queue.release();
    await queue.acquire(); // the slot came back: no wait
  });

  it("fails a wait past its limit with PoolQueueTimeoutError and leaves the queue usable", async () => {
    const queue = new ConnectionQueue(1, 50);
    await queue.acquire();
    await expect(queue.acquire()).rejects.toBeInstanceOf(PoolQueueTimeoutError);
    expect(queue.waiting).toBe(0);
    queue.release();
    await queue.acquire();
  });
});

describe("createPool's queue", () => {
  it("lets a checkout wait its turn longer than the connect timeout: a busy pool is load, not a fault", async () => {
    const pool = createPool(databaseUrl, "public", { max: 1, connectTimeoutMs: 100, queueTimeoutMs: 10_000 }) as PinnablePool;
    try {
      const held = await pool.connect();
      const second = pool.query("SELECT 1 AS one");
      await until(() => pool.queued === 1);
      await sleep(300); // three connect timeouts pass while the second caller waits its turn
      held.release();
      await expect(second).resolves.toMatchObject({ rows: [{ one: 1 }] });
      expect(pool.queued).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it("fails a checkout that waited past the queue limit, and the pool keeps serving", async () => {
    const pool = createPool(databaseUrl, "public", { max: 1, queueTimeoutMs: 100 }) as PinnablePool;
    try {
      const held = await pool.connect();
      await expect(pool.query("SELECT 1")).rejects.toBeInstanceOf(PoolQueueTimeoutError);
      held.release();
      const [a, b] = [pool.query("SELECT pg_backend_pid() AS p"), pool.query("SELECT pg_backend_pid() AS p")];
      // max 1: both answered by the one connection, one after the other.
      expect((await a).rows[0].p).toBe((await b).rows[0].p);
      expect(pool.queued).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it("gives the turn back when opening a connection fails", async () => {
    const pool = createPool("postgres://postgres@127.0.0.1:1/postgres", "public", { max: 1, connectTimeoutMs: 500 }) as PinnablePool;
    try {
      await expect(pool.query("SELECT 1")).rejects.toThrow();
      await expect(pool.query("SELECT 1")).rejects.toThrow(/ECONNREFUSED|connect/);
      expect(pool.queued).toBe(0);
    } finally {
      await pool.end();
    }
  });
});
