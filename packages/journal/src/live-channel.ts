import type { Redis } from "ioredis";
import { usesShardedPubSub } from "./redis-connection";

/**
 * How live journal messages are published: plain pub/sub on a single Redis, sharded pub/sub on a cluster. A
 * cluster forwards every PUBLISH over its bus to every node, so plain pub/sub costs each node every token of
 * every run; SPUBLISH keeps a message on the shard that owns its channel's slot (a run's channel shares its
 * stream's hash tag), where the journal hub SSUBSCRIBEs it. Needs Redis 7; a connection made with
 * `shardedPubSub: false` keeps plain pub/sub (see `createRedis`).
 */
export function publishCommand(redis: Redis): "PUBLISH" | "SPUBLISH" {
  return usesShardedPubSub(redis) ? "SPUBLISH" : "PUBLISH";
}

/** Publishes one live message on `channel` the way the journal hub listens for it. */
export async function publishLive(redis: Redis, channel: string, message: string): Promise<void> {
  await (usesShardedPubSub(redis) ? redis.spublish(channel, message) : redis.publish(channel, message));
}
