import type { Queue } from "bullmq";
import type Redis from "ioredis";
import type { Pool, PoolClient } from "pg";
import type { Dependency, RunlineMetrics } from "./metrics";

/** Counts every `'error'` event of these Redis connections (failed connects, dropped sockets, reconnect attempts). */
export function watchRedis(metrics: RunlineMetrics, ...connections: Redis[]): void {
  for (const connection of connections) connection.on("error", () => metrics.dependencyErrors.inc({ dependency: "redis" }));
}

/**
 * Counts Postgres connection errors: failed connects (every `pool.query` connects through `pool.connect`) and idle
 * clients losing their connection (`'error'` on the pool). Query errors (a constraint, a syntax error) are not
 * dependency errors and are not counted.
 */
export function watchPool(metrics: RunlineMetrics, pool: Pool): void {
  const count = () => metrics.dependencyErrors.inc({ dependency: "postgres" });
  pool.on("error", count);
  const connect = pool.connect.bind(pool) as (cb?: (err: Error | undefined, client?: PoolClient, done?: () => void) => void) => Promise<PoolClient> | void;
  (pool as { connect: unknown }).connect = (cb?: (err: Error | undefined, client?: PoolClient, done?: () => void) => void) => {
    if (cb) {
      return connect((err, client, done) => {
        if (err) count();
        cb(err, client, done);
      });
    }
    return (connect() as Promise<PoolClient>).catch((err: unknown) => {
      count();
      throw err;
    });
  };
}

/** A readiness check: resolves when the dependency answers. */
export type HealthCheck = () => Promise<unknown>;

/**
 * `/readyz` checks for Redis, Postgres and the BullMQ queue. A Redis connection that is not `ready`, or that drops
 * while the check waits, fails at once: ioredis would otherwise hold the command until it reconnects, and the
 * check would only fail at the route's timeout.
 */
export function createHealthChecks(deps: { redis: Redis; pool: Pool; queue: Queue }): Record<Dependency | "queue", HealthCheck> {
  return {
    redis: () => whileConnected(deps.redis, "redis", () => deps.redis.ping()),
    postgres: () => deps.pool.query("SELECT 1"),
    // The queue shares `redis` (Runline hands BullMQ that connection). A read through BullMQ's own scripts and
    // keys shows that the queue, not just the server, answers.
    queue: () => whileConnected(deps.redis, "queue", () => deps.queue.getJobCounts("waiting", "active")),
  };
}

function whileConnected<T>(redis: Redis, what: string, command: () => Promise<T>): Promise<T> {
  if (redis.status !== "ready") return Promise.reject(new Error(`${what} connection is ${redis.status}`));
  return new Promise<T>((resolve, reject) => {
    const lost = () => reject(new Error(`${what} connection lost`));
    redis.once("close", lost);
    command()
      .then(resolve, reject)
      .finally(() => redis.off("close", lost));
  });
}

/** The queue's job counts by state, for `runline_queue_jobs` (nothing while `connection`, the queue's, is down). */
export function queueJobCounts(queue: Queue, connection: Redis): () => Promise<Record<string, number>> {
  return async () => {
    if (connection.status !== "ready") throw new Error("queue connection is not ready");
    return queue.getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed");
  };
}
