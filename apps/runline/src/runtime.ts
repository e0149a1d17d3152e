import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CancelService, createApp, RunsService, ThreadsService } from "@runline/api-app";
import { createCheckpointer } from "@runline/checkpoint";
import type { RunlineConfig } from "@runline/config";
import { createPool, migrate, RunsRepo, ThreadsRepo } from "@runline/db";
import { GraphRegistry, readGraphsConfig, RunDispatcher, RunFinisher } from "@runline/engine";
import { createChatModelFactory } from "@runline/graphs";
import { createJournalHub, createJournalWriter, readRange } from "@runline/journal";
import { CancelListener, createRedis, createRunQueue } from "@runline/queue";
import { startRunWorker, type RunWorkerHandle } from "@runline/worker-app";
import { createLogger, errorFields, type Logger } from "./logger";

export const RUNLINE_VERSION = "0.1.0";

/** A started Runline: API and/or worker in this process, per `config.role`. */
export interface Runline {
  /** `http://host:port` of the API (null for a worker-only process). */
  url: string | null;
  logger: Logger;
  close(): Promise<void>;
}

/**
 * The composition root: builds every dependency once from the config, starts what the role asks for, and
 * closes everything in dependency order.
 */
export async function startRunline(config: RunlineConfig, options: { logger?: Logger } = {}): Promise<Runline> {
  const logger = options.logger ?? createLogger("runline", config.logLevel);
  const pool = createPool(config.databaseUrl, config.dbSchema);
  await migrate(pool, config.dbSchema);
  const checkpointer = await createCheckpointer(pool, config.dbSchema);
  const registry = new GraphRegistry(readGraphsConfig(config.graphsConfigPath), checkpointer);
  const redis = createRedis(config.redisUrl);
  const queue = createRunQueue(redis, config.redisPrefix);
  const threads = new ThreadsRepo(pool);
  const runs = new RunsRepo(pool);
  // Token appends get their own connection with auto-pipelining: every append of one event-loop turn (50 runs
  // streaming at once) goes out in one socket write. BullMQ's commands stay off it.
  const journalRedis = createRedis(config.redisUrl, { enableAutoPipelining: true });
  const journal = createJournalWriter(journalRedis, config.redisPrefix, { retentionSeconds: config.journalRetentionSeconds });
  const dispatcher = new RunDispatcher(pool, threads, runs, queue);
  const finisher = new RunFinisher(pool, threads, runs, dispatcher, journal);
  const closers: Array<() => Promise<unknown>> = [];

  let worker: RunWorkerHandle | null = null;
  if (config.role !== "api") {
    const workerConnection = createRedis(config.redisUrl);
    const cancels = new CancelListener(redis, config.redisPrefix);
    await cancels.start();
    worker = startRunWorker(
      workerConnection,
      config.redisPrefix,
      {
        runs,
        finisher,
        journal,
        readJournal: (runId) => readRange(redis, config.redisPrefix, runId),
        registry,
        checkpointer,
        chatModels: createChatModelFactory(config.model),
        cancels,
        deleteThread: async (threadId) => {
          await threads.deleteById(threadId);
          await checkpointer.deleteThread(threadId);
        },
        runTimeoutMs: config.runTimeoutMs,
      },
      { concurrency: config.workerConcurrency, lockDurationMs: config.lockDurationMs, stalledIntervalMs: config.stalledIntervalMs },
      (err) => logger.error("Worker error", errorFields(err)),
    );
    closers.push(() => worker!.close(), () => cancels.stop(), () => workerConnection.quit());
  }

  let server: Server | null = null;
  let url: string | null = null;
  if (config.role !== "worker") {
    // The hub opens its own subscriber connection (duplicated from this one) shared by every SSE client.
    const hub = createJournalHub(redis, config.redisPrefix);
    const cancels = new CancelService({ runs, finisher, queue, redis, hub, redisPrefix: config.redisPrefix });
    const app = createApp({
      threads: new ThreadsService({ pool, threads, runs, registry, checkpointer, cancels }),
      runs: new RunsService({ pool, threads, runs, registry, dispatcher, checkpointer, redis, hub, redisPrefix: config.redisPrefix, cancels }),
      cancels,
      registry,
      apiKeys: config.apiKeys,
      healthChecks: { redis: () => redis.ping(), postgres: () => pool.query("SELECT 1") },
      heartbeatMs: config.heartbeatMs,
      bodyLimit: config.bodyLimit,
      version: RUNLINE_VERSION,
      logError: (err) => logger.error("Request failed", errorFields(err)),
    });
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once("error", reject);
    });
    const address = server.address() as AddressInfo;
    url = `http://${address.address.includes(":") ? `[${address.address}]` : address.address}:${address.port}`;
    closers.unshift(
      () => new Promise<void>((resolve) => {
        server!.close(() => resolve());
        server!.closeAllConnections();
      }),
      () => hub.close(),
    );
  }

  closers.push(() => queue.close(), () => journalRedis.quit(), () => redis.quit(), () => pool.end());
  return {
    url,
    logger,
    async close() {
      for (const close of closers) await close().catch((err) => logger.warn("Close failed", errorFields(err)));
    },
  };
}
