import { Cluster, Redis, type RedisOptions } from "ioredis";

/** Where Runline's Redis is: one server, or a Redis Cluster reached through one of its nodes. */
export interface RedisTarget {
  url: string;
  /** `url` is a seed node of a Redis Cluster; the client discovers the other nodes from it. */
  cluster?: boolean;
  /**
   * On a cluster, live journal messages go by sharded pub/sub (SPUBLISH / SSUBSCRIBE, Redis 7+): each stays on
   * the shard of its run's slot. Off, they are plain PUBLISHes, which the cluster bus copies to every node (for
   * a Redis 6 cluster). Ignored on a single Redis. @defaultValue true
   */
  shardedPubSub?: boolean;
}

/**
 * A Redis connection for BullMQ or the journal. `maxRetriesPerRequest: null` is what BullMQ workers need
 * (blocking commands must wait through reconnects); never set `keyPrefix`, BullMQ's `prefix` does that job.
 *
 * On a cluster this is an ioredis `Cluster`, typed as `Redis`: it answers the same commands, and the places that
 * differ (a subscriber, a SCAN, a script's keys) check `isCluster` (see {@link subscriberConnection}).
 */
export function createRedis(target: string | RedisTarget, options: RedisOptions = {}): Redis {
  const { url, cluster, shardedPubSub = true } = typeof target === "string" ? { url: target, cluster: false } : target;
  const redisOptions: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, ...options };
  let redis: Redis;
  if (cluster) {
    const seed = new URL(url);
    const perNode: RedisOptions = { ...withoutAutoPipelining(redisOptions), ...credentialsOf(seed) };
    // rediss:// turns TLS on only in the single-node constructor; a cluster's nodes get it from their options.
    if (seed.protocol === "rediss:") perNode.tls ??= {};
    // A slot map refresh every 5 s (ioredis makes none by default): the journal hub follows moved slots with it,
    // even when the refresh it asked for on a move was answered by a node that had not heard of the move yet.
    redis = new Cluster([url], { enableReadyCheck: true, slotsRefreshInterval: 5000, redisOptions: perNode }) as unknown as Redis;
    seeds.set(redis, { url, options: perNode, shardedPubSub });
  } else {
    redis = new Redis(url, redisOptions);
  }
  // Errors surface through the commands that fail; an unhandled 'error' event would crash the process.
  redis.on("error", () => undefined);
  return redis;
}

/**
 * A second connection for SUBSCRIBE, which takes a connection over. On a cluster it is a plain connection to the
 * seed node, not the Cluster's own subscriber: a plain SUBSCRIBE on any node hears every node's PUBLISH (the run
 * control's broadcast, and the journal's live messages with sharded pub/sub off), and a plain connection reports
 * its drops ('close', then 'ready' once it re-subscribed), which a listener needs to re-read what it missed. The
 * Cluster's subscriber moves to another node on a drop without telling anyone (seen: messages published
 * meanwhile lost, no event), and races its own ready check with the first SUBSCRIBEs. The cost: what it hears
 * depends on that one node being up (listeners hold back and resume when it is back).
 */
export function subscriberConnection(redis: Redis, connectionName: string): Redis {
  if (!redis.isCluster) return redis.duplicate({ connectionName });
  const seed = seedOf(redis);
  return new Redis(seed.url, { ...seed.options, connectionName });
}

/**
 * A subscriber connection to one node of a cluster (`host:port`, as the cluster's slot map names it), with the
 * seed's options: sharded pub/sub (SSUBSCRIBE) is served only by the node that owns the channel's slot.
 */
export function nodeSubscriberConnection(redis: Redis, nodeKey: string, connectionName: string): Redis {
  const seed = seedOf(redis);
  const colon = nodeKey.lastIndexOf(":");
  return new Redis({ ...seed.options, host: nodeKey.slice(0, colon), port: Number(nodeKey.slice(colon + 1)), connectionName });
}

interface Seed {
  url: string;
  options: RedisOptions;
  shardedPubSub: boolean;
}

/** Whether live journal messages on this connection go by sharded pub/sub (a cluster made with it on). */
export function usesShardedPubSub(redis: Redis): boolean {
  return redis.isCluster && seeds.get(redis)?.shardedPubSub !== false;
}
/** The seed node and node options of each cluster connection made here (for its subscriber connections). */
const seeds = new WeakMap<Redis, Seed>();

function seedOf(redis: Redis): Seed {
  const seed = seeds.get(redis);
  if (!seed) throw new TypeError("A Redis Cluster connection must be made by createRedis (its subscribers use its seed and node options)");
  return seed;
}

function credentialsOf(url: URL): RedisOptions {
  // The seed's credentials are every node's: a cluster's nodes share them.
  return { ...(url.username ? { username: decodeURIComponent(url.username) } : {}), ...(url.password ? { password: decodeURIComponent(url.password) } : {}) };
}

/**
 * No auto-pipelining on a cluster: ioredis files an auto-pipelined command under the node of its first argument,
 * which for a script called with its key count first (the journal's batch) is the count, not a key, and the
 * pipeline then fails as cross-node. The journal batches per slot itself (ScriptBatcher).
 */
function withoutAutoPipelining(options: RedisOptions): RedisOptions {
  const { enableAutoPipelining: _off, ...rest } = options;
  return rest;
}

/** The servers to run a keyspace-wide command on (SCAN): every master of a cluster, or the one server. */
export function keyspaceNodes(redis: Redis): Redis[] {
  return redis.isCluster ? (redis as unknown as Cluster).nodes("master") : [redis];
}
