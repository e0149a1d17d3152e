import Redis, { type RedisOptions } from "ioredis";

/**
 * A Redis connection for BullMQ or the journal. `maxRetriesPerRequest: null` is what BullMQ workers need
 * (blocking commands must wait through reconnects); never set `keyPrefix`, BullMQ's `prefix` does that job.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
  // Errors surface through the commands that fail; an unhandled 'error' event would crash the process.
  redis.on("error", () => undefined);
  return redis;
}
