import { Cluster, Redis, type RedisOptions } from "ioredis";

/** Where Runline's Redis is: one server, or a Redis Cluster reached through one of its nodes. */
export interface RedisTarget {
  url: string;
  /** `url` is a seed node of a Redis Cluster; the client discovers the other nodes from it. */
  cluster?: boolean;
}

/**
 * A Redis connection for BullMQ or the journal. `maxRetriesPerRequest: null` is what BullMQ workers need
 * (blocking commands must wait through reconnects); never set `keyPrefix`, BullMQ's `prefix` does that job.
 *
 * On a cluster this is an ioredis `Cluster`, typed as `Redis`: it answers the same commands, and the places that
 * differ (a subscriber, a SCAN, a script's keys) check `isCluster` (see {@link subscriberConnection}).
 */
export function createRedis(target: string | RedisTarget, options: RedisOptions = {}): Redis {
  const { url, cluster } = typeof target === "string" ? { url: target, cluster: false } : target;
  const redisOptions: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, ...options };
  let redis: Redis;
  if (cluster) {
    // The seed's credentials are every node's: a cluster's nodes share them.
    const { username, password } = new URL(url);
    const auth = { ...(username ? { username: decodeURIComponent(username) } : {}), ...(password ? { password: decodeURIComponent(password) } : {}) };
    // No auto-pipelining on a cluster: ioredis files an auto-pipelined command under the node of its first
    // argument, which for a script called with its key count first (the journal's batch) is the count, not a key,
    // and the pipeline then fails as cross-node. The journal batches per slot itself (ScriptBatcher).
    const { enableAutoPipelining: _ignored, ...perNode } = redisOptions;
    redis = new Cluster([url], { enableReadyCheck: true, redisOptions: { ...perNode, ...auth } }) as unknown as Redis;
  } else {
    redis = new Redis(url, redisOptions);
  }
  // Errors surface through the commands that fail; an unhandled 'error' event would crash the process.
  redis.on("error", () => undefined);
  return redis;
}

/** A second connection to the same Redis (or cluster) for SUBSCRIBE, which takes a connection over. */
export function subscriberConnection(redis: Redis, connectionName: string): Redis {
  if (!redis.isCluster) return redis.duplicate({ connectionName });
  const cluster = redis as unknown as Cluster;
  // A Cluster's duplicate takes (startupNodes, options) and replaces `redisOptions` whole: the node options (auth,
  // retries) are passed on. No ready check on the node it subscribes through: ioredis would send that node its INFO
  // after the SUBSCRIBE the cluster already wrote, which a subscribed connection refuses, failing the subscribe.
  return cluster.duplicate(undefined, {
    redisOptions: { ...cluster.options.redisOptions, connectionName, enableReadyCheck: false },
  }) as unknown as Redis;
}

/** The servers to run a keyspace-wide command on (SCAN): every master of a cluster, or the one server. */
export function keyspaceNodes(redis: Redis): Redis[] {
  return redis.isCluster ? (redis as unknown as Cluster).nodes("master") : [redis];
}
