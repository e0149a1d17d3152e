import { hostname } from "node:os";
import type Redis from "ioredis";
import { withTimeout } from "@runline/core";
import { keyspaceNodes } from "./connection";

/** What a live worker process says about itself, every few seconds. */
export interface WorkerHeartbeatValue {
  /** `hostname:pid` */
  worker_id: string;
  started_at: string;
  /** When this value was written. */
  beat_at: string;
  concurrency: number;
  /** Runs this process is executing right now. */
  active_run_ids: string[];
  /** Runs this process's reconciler moved on after a lost step, by repair, since it started. */
  reconciled?: Record<string, number>;
}

/** Every how often a worker rewrites its heartbeat; the key lives three times as long. */
export const WORKER_HEARTBEAT_INTERVAL_MS = 5000;

/**
 * The only place that builds worker heartbeat key names: under the BullMQ prefix, so a test namespace (`prefix`)
 * covers them and cleanup by `prefix:*` finds them.
 */
export function workerHeartbeatKeys(prefix: string) {
  return {
    worker: (workerId: string) => `${prefix}:runline:workers:${workerId}`,
    /** A SCAN pattern matching every worker key of this prefix (glob characters of the prefix escaped). */
    pattern: () => `${prefix.replace(/[*?[\]\\]/g, "\\$&")}:runline:workers:*`,
  };
}

let instances = 0;

/** `hostname:pid`; a second worker in the same process (tests) gets `hostname:pid#2`, and so on. */
export function defaultWorkerId(): string {
  instances++;
  return `${hostname()}:${process.pid}${instances > 1 ? `#${instances}` : ""}`;
}

export interface WorkerHeartbeatOptions {
  workerId?: string;
  intervalMs?: number;
  concurrency: number;
  /** The run ids this process is executing now. */
  activeRunIds(): string[];
  /** The reconciler's repairs so far, by kind. */
  reconciled?(): Record<string, number>;
}

/** Writes this worker's heartbeat key (TTL 3× the interval) until stopped; stopping deletes it. */
export class WorkerHeartbeat {
  readonly workerId: string;
  private readonly intervalMs: number;
  private readonly startedAt = new Date().toISOString();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly options: WorkerHeartbeatOptions) {
    this.workerId = options.workerId ?? defaultWorkerId();
    this.intervalMs = options.intervalMs ?? WORKER_HEARTBEAT_INTERVAL_MS;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.beat();
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
  }

  /** Writes the heartbeat now (at most one write in flight; a beat asked for meanwhile follows it). */
  beat(): void {
    if (this.stopped) return;
    if (this.writing) {
      this.again = true;
      return;
    }
    const value: WorkerHeartbeatValue = {
      worker_id: this.workerId,
      started_at: this.startedAt,
      beat_at: new Date().toISOString(),
      concurrency: this.options.concurrency,
      active_run_ids: this.options.activeRunIds(),
      reconciled: this.options.reconciled?.() ?? {},
    };
    const key = workerHeartbeatKeys(this.prefix).worker(this.workerId);
    this.writing = this.redis
      .set(key, JSON.stringify(value), "PX", this.intervalMs * 3)
      .then(() => undefined, () => undefined)
      .finally(() => {
        this.writing = null;
        if (this.again) {
          this.again = false;
          this.beat();
        }
      });
  }

  /** Stops beating and deletes the key (bounded: a Redis that is down leaves the key to its TTL). */
  async stop(timeoutMs = 1000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    let timeout: NodeJS.Timeout | undefined;
    const bounded = new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, timeoutMs);
    });
    const remove = (async () => {
      await this.writing;
      await this.redis.del(workerHeartbeatKeys(this.prefix).worker(this.workerId));
    })().catch(() => undefined);
    await Promise.race([remove, bounded]);
    clearTimeout(timeout);
  }
}

/** How long the listing waits for one reply of a Redis node (a paused or unreachable master) before it gives up on it. */
export const HEARTBEAT_LISTING_NODE_TIMEOUT_MS = 1000;

export interface WorkerHeartbeatListing {
  /** The live workers found, by worker id. */
  workers: WorkerHeartbeatValue[];
  /** `host:port` of each master that did not answer in time: the workers whose keys it holds are missing. */
  unreachableNodes: string[];
}

/**
 * Per node: a SCAN reply that did not come in time, until it does. While it is outstanding the node gets no
 * further SCAN (each listing would queue one more on the connection of a paused node, all answered at once
 * when it wakes); a listing waits on it instead, within the same limit.
 */
const unanswered = new WeakMap<Redis, Promise<void>>();

/**
 * The live workers of this prefix (keys not yet expired). On a cluster the keys are spread over the masters, each
 * scanned at the same time. Each reply of a node is given `nodeTimeoutMs`, so a long keyspace is still scanned
 * whole while a master that is down or paused costs only the workers whose keys it holds: it is named in
 * `unreachableNodes` instead of failing or hanging the listing, and its scan stops there.
 */
export async function listWorkerHeartbeats(
  redis: Redis,
  prefix: string,
  { nodeTimeoutMs = HEARTBEAT_LISTING_NODE_TIMEOUT_MS }: { nodeTimeoutMs?: number } = {},
): Promise<WorkerHeartbeatListing> {
  const unreachableNodes: string[] = [];
  const keysPerNode = await Promise.all(
    keyspaceNodes(redis).map(async (node) => {
      try {
        return await heartbeatKeysOn(node, prefix, nodeTimeoutMs);
      } catch {
        unreachableNodes.push(`${node.options.host}:${node.options.port}`);
        return [];
      }
    }),
  );
  // A key seen on two nodes (a slot moving, a stale topology) is one worker.
  const keys = [...new Set(keysPerNode.flat())];
  // One GET each, routed by slot (the keys are in different slots), each bounded; a key that expired or did not
  // answer is left out.
  const values = await Promise.all(keys.map((key) => withTimeout(redis.get(key), nodeTimeoutMs).catch(() => null)));
  const workers: WorkerHeartbeatValue[] = [];
  for (const raw of values) {
    if (!raw) continue;
    try {
      workers.push(JSON.parse(raw) as WorkerHeartbeatValue);
    } catch {
      /* not ours */
    }
  }
  return { workers: workers.sort((a, b) => a.worker_id.localeCompare(b.worker_id)), unreachableNodes: unreachableNodes.sort() };
}

/** The heartbeat keys one node holds: SCAN it to the end, each reply within `replyTimeoutMs`. */
async function heartbeatKeysOn(node: Redis, prefix: string, replyTimeoutMs: number): Promise<string[]> {
  const outstanding = unanswered.get(node);
  if (outstanding) await withTimeout(outstanding, replyTimeoutMs);
  const keys: string[] = [];
  let cursor = "0";
  do {
    const reply = node.scan(cursor, "MATCH", workerHeartbeatKeys(prefix).pattern(), "COUNT", 500);
    try {
      const [next, batch] = await withTimeout(reply, replyTimeoutMs);
      cursor = next;
      keys.push(...batch);
    } catch (err) {
      const settled: Promise<void> = reply.then(
        () => undefined,
        () => undefined,
      );
      unanswered.set(node, settled);
      void settled.then(() => {
        if (unanswered.get(node) === settled) unanswered.delete(node);
      });
      throw err;
    }
  } while (cursor !== "0");
  return keys;
}
