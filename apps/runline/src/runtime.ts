import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express, RequestHandler } from "express";
import { CancelService, createApp, createOpsApp, RunAdmission, RunsService, StreamSlots, ThreadsService } from "@runline/api-app";
import { createCheckpointer } from "@runline/checkpoint";
import type { RunlineConfig } from "@runline/config";
import { createPool, migrate, RunsRepo, ThreadsRepo } from "@runline/db";
import { GraphRegistry, readGraphsConfig, RunDispatcher, RunLifecycle, RunReconciler } from "@runline/engine";
import { createChatModelFactory } from "@runline/graphs";
import { createJournalHub, createJournalWriter, journalKeys, readRange } from "@runline/journal";
import {
  cancelMetrics,
  createHealthChecks,
  createQueueDashboard,
  createRunlineMetrics,
  createRunTelemetry,
  observeJournal,
  queueJobCounts,
  watchPool,
  watchRedis,
  type RunlineMetrics,
} from "@runline/observability";
import { createRedis, createRunQueue, RunControl } from "@runline/queue";
import { startRunWorker, type RunWorkerHandle } from "@runline/worker-app";
import { applyHeapGrowth } from "./heap-growth";
import { createLogger, errorFields, type Logger } from "./logger";

export const RUNLINE_VERSION = "0.1.0";

/** A started Runline: API and/or worker in this process, per `config.role`. */
export interface Runline {
  /** `http://host:port` of the API (null for a worker-only process). */
  url: string | null;
  /** `http://host:port` of a worker-only process's ops routes (`RUNLINE_OPS_PORT`); null otherwise. */
  opsUrl: string | null;
  logger: Logger;
  /** This instance's metrics (its own registry; `/metrics` serves it). */
  metrics: RunlineMetrics;
  /**
   * A planned stop (SIGTERM): the worker stops fetching, runs in flight get `config.shutdownGraceMs`, the rest
   * are handed to another worker at once; then everything closes.
   */
  drain(graceMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The composition root: builds every dependency once from the config, starts what the role asks for, and
 * closes everything in dependency order.
 */
export async function startRunline(config: RunlineConfig, options: { logger?: Logger } = {}): Promise<Runline> {
  applyHeapGrowth(config.heapGrowthPercent);
  const logger = options.logger ?? createLogger("runline", config.logLevel);
  const metrics = createRunlineMetrics({ version: RUNLINE_VERSION });
  const pool = createPool(config.databaseUrl, config.dbSchema, config.postgres);
  watchPool(metrics, pool);
  await migrate(pool, config.dbSchema);
  // Aborted on close: transitions stop retrying through an outage once the process is going away.
  const closing = new AbortController();
  const onRetry = (info: { name: string; attempt: number; delayMs: number; error: unknown }) => {
    metrics.retries.inc({ operation: info.name });
    logger.warn("Retrying after a transient failure", { operation: info.name, attempt: info.attempt, delayMs: info.delayMs, ...errorFields(info.error) });
  };
  // Checkpoint writes made inside a run attempt are fenced: refused once the attempt no longer owns the run.
  const checkpointer = await createCheckpointer(pool, config.dbSchema, {
    ownership: { assertionSql: (owner) => RunsRepo.ownerAssertionSql(owner.runId, owner.attempt), refused: RunsRepo.isFencedError },
    retryForMs: config.retryForMs,
    onRetry,
  });
  const registry = new GraphRegistry(readGraphsConfig(config.graphsConfigPath), checkpointer);
  // Before anything listens or fetches jobs: a graph that cannot load fails the start, naming its file and export.
  await registry.loadAll().catch(async (err) => {
    await pool.end();
    throw err;
  });
  const redisTarget = { url: config.redisUrl, cluster: config.redisCluster, shardedPubSub: config.redisShardedPubSub };
  const redis = createRedis(redisTarget);
  const queue = createRunQueue(redis, config.redisPrefix);
  metrics.setQueueCounts(queueJobCounts(queue.queue, redis));
  const healthChecks = createHealthChecks({ redis, pool, queue: queue.queue });
  const threads = new ThreadsRepo(pool);
  const runs = new RunsRepo(pool);
  // Token appends get their own connection, off BullMQ's. No auto-pipelining on it: the journal's ScriptBatcher
  // already sends one script call per event-loop turn, and ioredis' pipeline around that one call cost the worker
  // ~10 µs per token (cpu-per-token --split, 2026-12-04).
  const journalRedis = createRedis(redisTarget);
  watchRedis(metrics, redis, journalRedis);
  const keys = journalKeys(config.redisPrefix);
  const journal = observeJournal(createJournalWriter(journalRedis, config.redisPrefix, { retentionSeconds: config.journalRetentionSeconds }), metrics, {
    sizeOf: (runId) => redis.xlen(keys.events(runId)),
  });
  const dispatcher = new RunDispatcher(pool, threads, runs, queue);
  const lifecycle = new RunLifecycle({
    pool,
    runs,
    dispatcher,
    journal,
    // Checkpoints first: if the process dies in between, the thread row is still there for the retry.
    deleteThread: async (threadId) => {
      await checkpointer.deleteThread(threadId);
      await threads.deleteById(threadId);
    },
    onRetry,
    signal: closing.signal,
    retryForMs: config.retryForMs,
  });
  const closers: Array<() => Promise<unknown>> = [];

  let worker: RunWorkerHandle | null = null;
  if (config.role !== "api") {
    const workerConnection = createRedis(redisTarget);
    watchRedis(metrics, workerConnection);
    const workerLogger = logger.child({ component: "worker" });
    const reconciledCounts: Record<string, number> = {};
    const control = new RunControl(redis, config.redisPrefix, {
      readStates: (runIds) => runs.controlStates(runIds),
      pollIntervalMs: config.controlPollMs,
      onError: () => metrics.dependencyErrors.inc({ dependency: "postgres" }),
    });
    await control.start();
    worker = startRunWorker(
      workerConnection,
      config.redisPrefix,
      {
        lifecycle,
        journal,
        readJournal: (runId) => readRange(redis, config.redisPrefix, runId),
        registry,
        checkpointer,
        chatModels: createChatModelFactory(config.model),
        control,
        runTimeoutMs: config.runTimeoutMs,
        runMaxOutputBytes: config.runMaxOutputBytes,
        maxAttempts: config.maxAttempts,
        lockDurationMs: config.lockDurationMs,
        telemetry: createRunTelemetry(metrics, workerLogger),
      },
      {
        concurrency: config.workerConcurrency,
        lockDurationMs: config.lockDurationMs,
        stalledIntervalMs: config.stalledIntervalMs,
        reconciled: () => ({ ...reconciledCounts }),
      },
      workerLogger,
    );
    const reconciler = new RunReconciler(
      { pool, runs, queue, lifecycle },
      {
        intervalMs: config.reconcileIntervalMs,
        graceMs: config.reconcileGraceMs,
        onRepaired: (action, id) => {
          metrics.reconciled.inc({ action });
          reconciledCounts[action] = (reconciledCounts[action] ?? 0) + 1;
          workerLogger.warn("Reconciled a run", { action, id });
        },
        onError: (err) => workerLogger.warn("Reconcile pass failed", errorFields(err)),
      },
    );
    reconciler.start();
    closers.push(() => reconciler.stop(), () => worker!.close(), () => control.stop(), () => workerConnection.quit());
  }

  const ops = {
    healthChecks,
    healthTimeoutMs: config.healthTimeoutMs,
    version: RUNLINE_VERSION,
    metrics,
    adminKey: config.adminKey,
    adminPages: (config.adminKey
      ? { "/admin/queues": createQueueDashboard([queue.queue], { allowActions: config.queueDashboardActions }) }
      : {}) as Record<string, RequestHandler>,
  };
  let server: Server | null = null;
  let url: string | null = null;
  if (config.role !== "worker") {
    // The hub opens its own subscriber connection (duplicated from this one) shared by every SSE client.
    const hub = createJournalHub(redis, config.redisPrefix, { onError: () => metrics.dependencyErrors.inc({ dependency: "redis" }) });
    const cancels = new CancelService({ runs, lifecycle, queue, redis, hub, redisPrefix: config.redisPrefix, metrics: cancelMetrics(metrics) });
    const threadsService = new ThreadsService({ pool, threads, runs, registry, checkpointer, cancels });
    const app = createApp({
      ...ops,
      logger: logger.child({ component: "api" }),
      threads: threadsService,
      runs: new RunsService({
        pool,
        threads,
        runs,
        registry,
        dispatcher,
        checkpointer,
        redis,
        hub,
        redisPrefix: config.redisPrefix,
        cancels,
        admission: new RunAdmission(redis, config.redisPrefix, runs, config.quotas),
      }),
      streamQuota: new StreamSlots(redis, config.redisPrefix, { tenantStreams: config.quotas.tenantStreams, streams: config.quotas.streams }),
      cancels,
      registry,
      apiKeys: config.apiKeys,
      heartbeatMs: config.heartbeatMs,
      sseSlowClientMs: config.sseSlowClientMs,
      bodyLimit: config.bodyLimit,
      corsOrigins: config.corsOrigins,
      allowedHosts: config.allowedHosts,
      dashboard: {
        runs,
        redis,
        redisPrefix: config.redisPrefix,
        jobCounts: () => queue.queue.getJobCounts("waiting", "active", "delayed"),
        // The dashboard is not tenant-scoped: it reads a thread's history as the thread's tenant (404 when missing).
        threadHistory: (tenantId, threadId) => threadsService.history(tenantId, threadId, { limit: 1000 }),
        tenantsWithThread: (threadId) => threads.tenantsWithPublicId(threadId),
      },
    });
    server = await listen(app, config.port, config.host);
    url = urlOf(server);
    closers.unshift(() => closeServer(server!), () => hub.close());
  }

  let opsUrl: string | null = null;
  if (config.role === "worker" && config.opsPort !== null) {
    // A worker-only process has no API: it serves only the ops routes, for probes and Prometheus.
    const opsServer = await listen(createOpsApp({ ...ops, logger: logger.child({ component: "ops" }) }), config.opsPort, config.host);
    opsUrl = urlOf(opsServer);
    closers.push(() => closeServer(opsServer));
  }

  closers.push(() => queue.close(), () => journalRedis.quit(), () => redis.quit(), () => pool.end());
  const runline: Runline = {
    url,
    opsUrl,
    logger,
    metrics,
    async drain(graceMs = config.shutdownGraceMs) {
      await worker?.drain(graceMs);
      await close();
    },
    close,
  };
  async function close() {
    closing.abort();
    for (const closer of closers) await closer().catch((err) => logger.warn("Close failed", errorFields(err)));
  }
  return runline;
}

function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    // Express 5 calls this callback with the listen error too (a port in use): without the check the start
    // "succeeded" on a server that never listened, and failed later reading its address.
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
    server.once("error", reject);
  });
}

/** The URL a client on this machine uses: a wildcard bind (0.0.0.0, ::) is reached through loopback, which the host guard accepts. */
function urlOf(server: Server): string {
  const address = server.address() as AddressInfo;
  const ip = address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "::1" : address.address;
  return `http://${ip.includes(":") ? `[${ip}]` : ip}:${address.port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
