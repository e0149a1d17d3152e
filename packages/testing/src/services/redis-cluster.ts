import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { waitFor } from "../wait-for";
import { rawRedisCommand } from "./ports";
import { startPrivateRedis, type PrivateRedis } from "./redis";

const run = promisify(execFile);

/** A private Redis Cluster of masters only, each a redis-server of its own on a loopback port. */
export interface PrivateRedisCluster {
  nodes: PrivateRedis[];
  /** `{host, port}` of every node, as ioredis' `Cluster` takes them. */
  startupNodes: Array<{ host: string; port: number }>;
  /** Kills every node and removes their directories. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `masters` cluster-enabled servers, joins them with `redis-cli --cluster create` (slots split evenly, no
 * replicas) and resolves once every node reports `cluster_state:ok`, so a client sees the whole slot map.
 */
export async function startPrivateRedisCluster(masters = 3): Promise<PrivateRedisCluster> {
  const nodes: PrivateRedis[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(await startPrivateRedis({ extraArgs: ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"] }));
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"], { timeout: 30_000 });
    // Gossip spreads the new slot map in a second or two; until then a node may answer CLUSTERDOWN.
    const clusterOk = async (port: number) =>
      (await rawRedisCommand(port, "CLUSTER INFO", (reply) => /cluster_state:\w+/.test(reply))).includes("cluster_state:ok");
    await Promise.all(nodes.map((n) => waitFor(() => clusterOk(n.port), { timeoutMs: 30_000, intervalMs: 100, what: `cluster_state:ok on ${n.port}` })));
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, startupNodes: nodes.map((n) => ({ host: "127.0.0.1", port: n.port })), stop };
}
