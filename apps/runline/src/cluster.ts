import cluster, { type Worker } from "node:cluster";
import type { RunlineConfig } from "@runline/config";
import type { Logger } from "./logger";

/** What a child tells the primary (IPC). */
export type ChildMessage = { type: "runline:ready"; url: string | null; opsUrl: string | null; workerConcurrency: number };
/** What the primary tells a child (IPC). */
export type PrimaryMessage = { type: "runline:log-level"; level: string };

/** A restarted child that dies before it is ready this many times in a row: the primary gives up. */
const MAX_FAILED_STARTS = 5;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;
/** A child that lived this long counts as healthy again: the next crash restarts it after the shortest delay. */
const HEALTHY_AFTER_MS = 30_000;

export interface RunlineCluster {
  /** The shared API URL (null for a worker-only cluster). */
  url: string | null;
  opsUrl: string | null;
  pids(): number[];
  /** Sends every live child a message (e.g. the log level while the tour runs). */
  broadcast(message: PrimaryMessage): void;
  /** Forwards `signal` to every child, waits until all exited; resolves true when every one exited 0. */
  stop(signal: NodeJS.Signals): Promise<boolean>;
}

/**
 * The `node:cluster` primary: forks `config.processes` children, each running `startRunline` with the same
 * config (they share the HTTP port; the primary hands connections round-robin), and resolves once every child
 * reported ready. A child that exits unexpectedly is replaced after a bounded backoff; one that fails to start
 * at the beginning fails the whole start (rejects, after stopping the others).
 */
export async function startCluster(config: RunlineConfig, logger: Logger, env: Record<string, string | undefined>): Promise<RunlineCluster> {
  const children = new Map<number, { worker: Worker; startedAt: number; ready: boolean; exited: Promise<number> }>();
  let stopping = false;
  let failedStarts = 0;
  let backoffMs = BACKOFF_MIN_MS;
  let first: (ChildMessage & { pid: number }) | null = null;

  const fork = (slot: number): Promise<ChildMessage & { pid: number }> => {
    // Every child gets the same environment; RUNLINE_PROCESS_SLOT only names it in logs.
    const worker = cluster.fork({ ...env, RUNLINE_PROCESS_SLOT: String(slot) });
    const exited = new Promise<number>((resolve) => worker.once("exit", (code) => resolve(code ?? 1)));
    const entry = { worker, startedAt: Date.now(), ready: false, exited };
    children.set(worker.id, entry);
    return new Promise((resolve, reject) => {
      worker.on("message", (m: ChildMessage) => {
        if (m?.type !== "runline:ready") return;
        entry.ready = true;
        resolve({ ...m, pid: worker.process.pid! });
      });
      worker.once("exit", (code, signal) => {
        children.delete(worker.id);
        const pid = worker.process.pid;
        if (!entry.ready) reject(new Error(`Runline process ${pid} exited (${signal ?? code}) before it was ready`));
        if (stopping) return;
        if (!entry.ready) failedStarts += 1;
        else failedStarts = 0;
        if (Date.now() - entry.startedAt > HEALTHY_AFTER_MS) backoffMs = BACKOFF_MIN_MS;
        if (failedStarts >= MAX_FAILED_STARTS) {
          logger.error("Runline process keeps failing to start; stopping", { pid, slot, failedStarts });
          void stopAll("SIGTERM").then(() => process.exit(1));
          return;
        }
        const delayMs = backoffMs;
        backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
        logger.warn("Runline process exited; restarting it", { pid, slot, code, signal, delayMs });
        setTimeout(() => {
          if (stopping) return;
          fork(slot).then(
            (m) => logger.info("Runline process restarted", { slot, pid: m.pid }),
            () => undefined, // its exit is handled (and logged) above
          );
        }, delayMs).unref();
      });
    });
  };
  const stopAll = async (signal: NodeJS.Signals): Promise<boolean> => {
    stopping = true;
    // The children alive now; one that crashed earlier was already replaced (or the start failed).
    const live = [...children.values()];
    for (const { worker } of live) worker.process.kill(signal);
    const codes = await Promise.all(live.map((c) => c.exited));
    return codes.every((c) => c === 0);
  };

  try {
    const ready = await Promise.all(Array.from({ length: config.processes }, (_, slot) => fork(slot)));
    first = ready[0]!;
  } catch (err) {
    await stopAll("SIGTERM");
    throw err;
  }
  return {
    url: first.url,
    opsUrl: first.opsUrl,
    pids: () => [...children.values()].map((c) => c.worker.process.pid!),
    broadcast(message) {
      for (const { worker } of children.values()) if (worker.isConnected()) worker.send(message);
    },
    stop: stopAll,
  };
}

/** In a child: tells the primary this process serves, and follows its log-level messages. */
export function reportReadyToPrimary(ready: ChildMessage, logger: Logger): void {
  process.on("message", (m: PrimaryMessage) => {
    if (m?.type === "runline:log-level") logger.setLevel(m.level as never);
  });
  process.send?.(ready);
}

export const isClusterChild = () => cluster.isWorker;
