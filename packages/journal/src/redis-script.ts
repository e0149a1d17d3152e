import type { Redis } from "ioredis";

/**
 * Defines a Lua script on a connection and returns a function that calls it. ioredis sends EVAL the first time
 * per socket and EVALSHA after, so even a first burst keeps its order (no NOSCRIPT retry overtaking later
 * commands), and no call builds a pipeline (an ioredis pipeline copies every script defined on its connection
 * when built, and BullMQ defines dozens). Without `numberOfKeys`, each call passes its key count first.
 */
export function defineScript<F extends (...args: never[]) => Promise<unknown>>(redis: Redis, name: string, lua: string, numberOfKeys?: number): F {
  redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
  return (redis as unknown as Record<string, F>)[name]!.bind(redis) as F;
}
