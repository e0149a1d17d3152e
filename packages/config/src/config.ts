import { availableParallelism } from "node:os";
import { z } from "zod";
import { autoWorkerConcurrency } from "./worker-concurrency";

const BoolEnv = z
  .enum(["1", "0", "true", "false", "yes", "no", ""])
  .transform((v) => v === "1" || v === "true" || v === "yes");
const PositiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/** An empty variable (`FOO=` in compose files) counts as unset. */
const Unset = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

const splitList = (v: string) => v.split(",").map((p) => p.trim()).filter(Boolean);

/** `Example.com:2024` → `example.com` (as a browser's URL parser spells it), or null when it is no host name. */
function hostnameOf(entry: string): string | null {
  if (/[/?#@\s\\*]/.test(entry)) return null;
  try {
    return new URL(`http://${entry}`).hostname || null;
  } catch {
    return null;
  }
}

/**
 * The CORS origins: the variable when set (`none` = no CORS at all), else the default for the auth mode. Without
 * keys, pages on this machine (a Vite dev server on :5173) work at once; with keys, any origin may call, since a
 * key is a header the page must hold (never a cookie the browser adds), as on the LangGraph server.
 */
function corsOriginsOf(value: string | undefined, withKeys: boolean): string[] {
  if (value === undefined) return [withKeys ? "*" : "loopback"];
  const list = splitList(value);
  return list.length === 1 && list[0] === "none" ? [] : list;
}

/**
 * The quotas. With API keys, tenants share the service, and each gets a fair share by default: 100 active runs,
 * 200 streams, 600 run creations a minute. Without keys there is one tenant, the whole service, so its limits
 * default to the service-wide ones (and 6,000 creations a minute): `npm start` can take 800 streams at once.
 * A limit set in the environment is always used as set.
 */
function tenantQuotas(env: z.infer<typeof RunlineEnvSchema>, withKeys: boolean): RunlineConfig["quotas"] {
  return {
    tenantActiveRuns: env.RUNLINE_TENANT_MAX_ACTIVE_RUNS ?? (withKeys ? 100 : env.RUNLINE_MAX_ACTIVE_RUNS),
    activeRuns: env.RUNLINE_MAX_ACTIVE_RUNS,
    tenantStreams: env.RUNLINE_TENANT_MAX_STREAMS ?? (withKeys ? 200 : env.RUNLINE_MAX_STREAMS),
    streams: env.RUNLINE_MAX_STREAMS,
    tenantRunsPerMinute: env.RUNLINE_TENANT_RUNS_PER_MINUTE ?? (withKeys ? 600 : 6000),
  };
}

/** Every setting Runline reads from the environment; nothing else reads `process.env`. */
export const RunlineEnvSchema = z
  .object({
    HOST: z.string().optional(),
    PORT: z.coerce.number().int().min(0).max(65535).default(2024),
    REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
    /** `REDIS_URL` is one node of a Redis Cluster (the others are discovered from it). */
    RUNLINE_REDIS_CLUSTER: BoolEnv.default(false),
    /** On a cluster: live journal messages by sharded pub/sub (Redis 7+); off for a Redis 6 cluster. */
    RUNLINE_REDIS_SHARDED_PUBSUB: BoolEnv.default(true),
    DATABASE_URL: z.string().default("postgres://postgres@127.0.0.1:5432/postgres"),
    /** Postgres schema for Runline's tables and the checkpoints. */
    RUNLINE_DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/i).default("runline"),
    /** BullMQ and journal key prefix in Redis. No braces: Runline places the Redis Cluster hash tags itself. */
    RUNLINE_REDIS_PREFIX: z.string().min(1).regex(/^[^{}\s]+$/, "no braces or spaces").default("runline"),
    /** `key1:tenantA,key2:tenantB`. Empty means single-tenant and loopback only. */
    RUNLINE_API_KEYS: z
      .string()
      .default("")
      .refine((v) => v.split(",").map((p) => p.trim()).filter(Boolean).every((p) => /^[^:\s]+:[^:\s]+$/.test(p)), {
        message: "expected comma-separated key:tenant pairs",
      }),
    /** Path of the graphs file (`{"graphs": {"id": "./file.ts:export"}}`). */
    RUNLINE_CONFIG: z.string().default("runline.json"),
    RUNLINE_ROLE: z.enum(["all", "api", "worker"]).default("all"),
    /**
     * OS processes `main.ts` runs (a `node:cluster` primary forks them; they share the HTTP port). `auto` = every
     * core for role `all` (`npm start`), 1 for `api`/`worker` (deployed as replicas); `1` = no fork.
     */
    RUNLINE_PROCESSES: z.union([z.literal("auto"), z.coerce.number().int().positive().max(256)]).default("auto"),
    /**
     * How far each serving process lets its JavaScript heap grow past what its last full garbage collection kept,
     * in percent (V8's `--heap-growing-percent`, set at start): 200 = up to 3× the live data. Applied only to a heap
     * limit of 2 GB or more, where V8's own heuristics let a busy process reach 4× (below it they stay under 2×).
     * 0 = V8's own. At 800 streams (bench/RESULTS.md): ~1.4 GB of RSS with V8's, ~1.1 GB at 200 for no CPU cost we
     * could measure, ~0.9 GB at 100 for ~7% more CPU per token.
     */
    RUNLINE_HEAP_GROWTH_PERCENT: z.coerce.number().int().min(0).max(300).default(200),
    /** Runs one worker process executes at once; `auto` = sized from the heap (see `autoWorkerConcurrency`). */
    RUNLINE_WORKER_CONCURRENCY: z.union([z.literal("auto"), z.coerce.number().int().positive()]).default("auto"),
    RUNLINE_HEARTBEAT_MS: PositiveInt(5000),
    /** How long an SSE client may leave its socket full before it is dropped (told to reconnect with Last-Event-ID). */
    RUNLINE_SSE_SLOW_CLIENT_MS: PositiveInt(30_000),
    RUNLINE_JOURNAL_RETENTION_SECONDS: PositiveInt(3600),
    RUNLINE_BODY_LIMIT: z.string().default("1mb"),
    /** Longest a run may take before it ends as `timeout`, partial kept (0 = no limit). */
    RUNLINE_RUN_TIMEOUT_MS: z.coerce.number().int().nonnegative().default(600_000),
    /** Most bytes of events one run may write to its journal before it ends `error`, partial kept (0 = no limit). */
    RUNLINE_RUN_MAX_OUTPUT_BYTES: z.coerce.number().int().nonnegative().default(16 * 1024 * 1024),
    // The per-tenant limits have no default here: it depends on whether there are tenants (see tenantQuotas).
    /** Runs (pending + running) one tenant may have at once; past it, creating a run is 429 `TOO_MANY_RUNS`. */
    RUNLINE_TENANT_MAX_ACTIVE_RUNS: Unset(z.coerce.number().int().positive()),
    /** Runs (pending + running) of all tenants together. */
    RUNLINE_MAX_ACTIVE_RUNS: PositiveInt(10_000),
    /** Open SSE streams one tenant may hold across every API process; past it, 429 `TOO_MANY_STREAMS`. */
    RUNLINE_TENANT_MAX_STREAMS: Unset(z.coerce.number().int().positive()),
    /** Open SSE streams of all tenants together, across every API process. */
    RUNLINE_MAX_STREAMS: PositiveInt(10_000),
    /** Runs one tenant may create per minute (counted in Redis, so across API processes); past it, 429 `RATE_LIMITED`. */
    RUNLINE_TENANT_RUNS_PER_MINUTE: Unset(z.coerce.number().int().positive()),
    /**
     * Browser origins allowed to call the API: comma-separated origins, `*`, `loopback`, or `none`. Unset: `loopback`
     * without API keys, `*` with them.
     */
    RUNLINE_CORS_ORIGINS: Unset(z.string()),
    /**
     * Without API keys: host names, besides loopback ones, that requests may be addressed to (comma-separated, or
     * `*` for any: no DNS-rebinding guard). Ignored with API keys.
     */
    RUNLINE_ALLOWED_HOSTS: z
      .string()
      .default("")
      .refine((v) => v.trim() === "*" || splitList(v).every((h) => hostnameOf(h) !== null), { message: "expected comma-separated host names, or *" }),
    RUNLINE_LOCK_DURATION_MS: PositiveInt(30_000),
    RUNLINE_STALLED_INTERVAL_MS: PositiveInt(30_000),
    /** Attempts a run gets when the workers running it keep dying; past them it ends `error`, partial kept. */
    RUNLINE_MAX_ATTEMPTS: PositiveInt(3),
    /** How often each worker's reconciler looks for runs whose next step was lost. */
    RUNLINE_RECONCILE_INTERVAL_MS: PositiveInt(5_000),
    /** How long a run must sit unchanged before the reconciler treats its missing job as lost. */
    RUNLINE_RECONCILE_GRACE_MS: PositiveInt(5_000),
    /** How often a worker re-reads the recorded cancel/ownership of the runs it executes (pub/sub is the fast path). */
    RUNLINE_CONTROL_POLL_MS: PositiveInt(1_000),
    /** On SIGTERM, how long runs in flight may go on before they are handed to another worker. */
    RUNLINE_SHUTDOWN_GRACE_MS: z.coerce.number().int().nonnegative().default(10_000),
    /** Longest a run transition (claim, finish, announce, checkpoint write) retries through a Postgres/Redis outage. */
    RUNLINE_RETRY_FOR_MS: PositiveInt(60_000),
    OPENAI_API_KEY: z.string().optional(),
    OPENAI_BASE_URL: z.string().optional(),
    RUNLINE_MODEL: z.string().default("gpt-4o-mini"),
    RUNLINE_MODEL_PROVIDER: z.enum(["story", "openai"]).optional(),
    /** Longest the OpenAI-compatible provider may send no byte (before the headers or between chunks) before the call fails. */
    RUNLINE_MODEL_IDLE_TIMEOUT_MS: PositiveInt(60_000),
    /** Retries of a model request that failed before its first token (429 honours `retry-after`); never mid-stream. */
    RUNLINE_MODEL_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    RUNLINE_STORY_TOKENS: PositiveInt(200),
    RUNLINE_STORY_DELAY_MS: z.coerce.number().int().nonnegative().default(20),
    /**
     * Key for `/metrics` and the admin routes (`/admin/queues`), sent as `x-admin-key`, `Authorization: Bearer` or a
     * Basic password. Unset: those routes are disabled (404).
     */
    RUNLINE_ADMIN_KEY: Unset(z.string().min(16, "use at least 16 characters")),
    /** Let the queue dashboard retry, remove and clean jobs (read-only otherwise). */
    RUNLINE_QUEUE_DASHBOARD_ACTIONS: BoolEnv.default(false),
    /** Longest `/readyz` waits for each dependency before answering 503 naming it. */
    RUNLINE_HEALTH_TIMEOUT_MS: z.coerce.number().int().positive().max(10_000).default(1500),
    /** Port on which a worker-only process (`--role worker`) serves `/healthz`, `/readyz` and `/metrics`; unset = none. */
    RUNLINE_OPS_PORT: Unset(z.coerce.number().int().min(0).max(65535)),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    RUNLINE_QUIET: BoolEnv.default(false),
    /** Run the cancel-and-continue tour against this server once it started (role `all` only). */
    RUNLINE_DEMO: BoolEnv.default(true),
    /**
     * Most Postgres connections per process (one pool serves the API, the worker and the checkpointer). Unset: 20,
     * or fewer when RUNLINE_PROCESSES > 2, so the processes together open about 40 (see `defaultPoolMax`).
     */
    RUNLINE_PG_POOL_MAX: Unset(z.coerce.number().int().positive()),
    /** Longest opening a new Postgres connection may take before the caller fails (a request: 503) (0 = forever). */
    RUNLINE_PG_CONNECT_TIMEOUT_MS: z.coerce.number().int().nonnegative().default(5_000),
    /**
     * Longest a caller waits behind others for a free connection of the pool before it fails (a request: 503)
     * (0 = forever). Long, because a busy pool is load: a run's checkpoint write should wait its turn, not fail.
     */
    RUNLINE_PG_QUEUE_TIMEOUT_MS: z.coerce.number().int().nonnegative().default(60_000),
    /** Postgres `statement_timeout`: longest one statement, lock waits included, may run (0 = no limit). */
    RUNLINE_PG_STATEMENT_TIMEOUT_MS: z.coerce.number().int().nonnegative().default(30_000),
    /** Postgres `idle_in_transaction_session_timeout`: a transaction left idle this long is ended (0 = never). */
    RUNLINE_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().nonnegative().default(60_000),
  })
  .superRefine((env, ctx) => {
    const tenantKeys = env.RUNLINE_API_KEYS.split(",").map((p) => p.trim().split(":")[0]);
    if (env.RUNLINE_ADMIN_KEY && tenantKeys.includes(env.RUNLINE_ADMIN_KEY)) {
      ctx.addIssue({ code: "custom", path: ["RUNLINE_ADMIN_KEY"], message: "must differ from every RUNLINE_API_KEYS key (a tenant would get admin access)" });
    }
    if (env.RUNLINE_MODEL_PROVIDER === "openai" && !env.OPENAI_API_KEY && !env.OPENAI_BASE_URL) {
      ctx.addIssue({ code: "custom", path: ["OPENAI_API_KEY"], message: "RUNLINE_MODEL_PROVIDER=openai needs OPENAI_API_KEY or OPENAI_BASE_URL" });
    }
  });

export type ModelConfig =
  | { provider: "story"; story: { tokens: number; delayMs: number } }
  | { provider: "openai"; openai: { apiKey?: string; baseURL?: string; model: string; maxRetries: number; idleTimeoutMs: number }; story: { tokens: number; delayMs: number } };

/** Runline's configuration, parsed once at start and passed down. */
export interface RunlineConfig {
  host: string;
  port: number;
  redisUrl: string;
  /** `redisUrl` is a seed node of a Redis Cluster. */
  redisCluster: boolean;
  /** On a cluster, live journal messages go by SPUBLISH/SSUBSCRIBE. */
  redisShardedPubSub: boolean;
  databaseUrl: string;
  dbSchema: string;
  redisPrefix: string;
  /** API key → tenant id; empty = single tenant "default". */
  apiKeys: ReadonlyMap<string, string>;
  graphsConfigPath: string;
  role: "all" | "api" | "worker";
  /** OS processes `main.ts` runs for this role (1 = this process serves alone; see {@link processesFor}). */
  processes: number;
  /** Runs one worker process executes at once (each of the `processes` has its own). */
  workerConcurrency: number;
  /** V8's heap growing factor for each serving process, in percent over the live data; 0 = V8's default. */
  heapGrowthPercent: number;
  heartbeatMs: number;
  sseSlowClientMs: number;
  journalRetentionSeconds: number;
  bodyLimit: string;
  /** Exact origins, `*` or `loopback`; empty = no CORS headers. */
  corsOrigins: readonly string[];
  /** Without API keys: extra host names requests may be addressed to (loopback names always); null = no host guard. */
  allowedHosts: readonly string[] | null;
  runTimeoutMs: number;
  /** Most bytes of journal events per run (0 = no limit). */
  runMaxOutputBytes: number;
  /** Per-tenant and global admission limits (checked after validation: a refused request never counts). */
  quotas: { tenantActiveRuns: number; activeRuns: number; tenantStreams: number; streams: number; tenantRunsPerMinute: number };
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxAttempts: number;
  reconcileIntervalMs: number;
  reconcileGraceMs: number;
  controlPollMs: number;
  shutdownGraceMs: number;
  retryForMs: number;
  model: ModelConfig;
  logLevel: string;
  /** Key for `/metrics` and `/admin/*`; null = those routes are disabled. */
  adminKey: string | null;
  /** The queue dashboard may change jobs (retry, remove, clean). */
  queueDashboardActions: boolean;
  /** Per-dependency bound of a `/readyz` check. */
  healthTimeoutMs: number;
  /** Ops port of a worker-only process (`/healthz`, `/readyz`, `/metrics`); null = none. */
  opsPort: number | null;
  quiet: boolean;
  demo: boolean;
  /** Size and time limits of the Postgres pool. */
  postgres: { max: number; connectTimeoutMs: number; queueTimeoutMs: number; statementTimeoutMs: number; idleInTransactionTimeoutMs: number };
}

/**
 * `RUNLINE_PROCESSES` resolved: `auto` is every core (`os.availableParallelism`) for role `all`, the one command
 * that must use the machine, and 1 for `api`/`worker`, which an orchestrator already runs as N replicas.
 */
export function processesFor(setting: "auto" | number, role: RunlineConfig["role"], cores = availableParallelism()): number {
  if (setting !== "auto") return setting;
  return role === "all" ? Math.max(1, cores) : 1;
}

/**
 * The default Postgres pool per process: 20, split when more than two processes share the service so the
 * processes together stay near 40 connections (at least 4 each), well inside Postgres' default
 * `max_connections` of 100 on a many-core machine.
 */
export function defaultPoolMax(processes: number): number {
  return Math.min(20, Math.max(4, Math.floor(40 / processes)));
}

/** What {@link loadConfig} throws: its message names every bad variable, which is all a user needs to see. */
export class InvalidConfigError extends Error {
  override readonly name = "InvalidConfigError";
}

/** Parses the environment (or any record, for tests); throws with every bad variable named. */
export function loadConfig(source: Record<string, string | undefined> = process.env): RunlineConfig {
  const parsed = RunlineEnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(env)"}: ${i.message}`);
    throw new InvalidConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const env = parsed.data;
  const apiKeys = new Map(
    env.RUNLINE_API_KEYS.split(",")
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => p.split(":") as [string, string]),
  );
  const processes = processesFor(env.RUNLINE_PROCESSES, env.RUNLINE_ROLE);
  const story = { tokens: env.RUNLINE_STORY_TOKENS, delayMs: env.RUNLINE_STORY_DELAY_MS };
  const provider = env.RUNLINE_MODEL_PROVIDER ?? (env.OPENAI_API_KEY ? "openai" : "story");
  const model: ModelConfig =
    provider === "openai"
      ? { provider, openai: { apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL, model: env.RUNLINE_MODEL, maxRetries: env.RUNLINE_MODEL_MAX_RETRIES, idleTimeoutMs: env.RUNLINE_MODEL_IDLE_TIMEOUT_MS }, story }
      : { provider, story };
  return Object.freeze({
    // Without API keys anyone who can reach the port owns every thread, so default to loopback only.
    host: env.HOST ?? (apiKeys.size ? "0.0.0.0" : "127.0.0.1"),
    port: env.PORT,
    redisUrl: env.REDIS_URL,
    redisCluster: env.RUNLINE_REDIS_CLUSTER,
    redisShardedPubSub: env.RUNLINE_REDIS_SHARDED_PUBSUB,
    databaseUrl: env.DATABASE_URL,
    dbSchema: env.RUNLINE_DB_SCHEMA,
    redisPrefix: env.RUNLINE_REDIS_PREFIX,
    apiKeys,
    graphsConfigPath: env.RUNLINE_CONFIG,
    role: env.RUNLINE_ROLE,
    processes,
    workerConcurrency: env.RUNLINE_WORKER_CONCURRENCY === "auto" ? autoWorkerConcurrency() : env.RUNLINE_WORKER_CONCURRENCY,
    heapGrowthPercent: env.RUNLINE_HEAP_GROWTH_PERCENT,
    heartbeatMs: env.RUNLINE_HEARTBEAT_MS,
    sseSlowClientMs: env.RUNLINE_SSE_SLOW_CLIENT_MS,
    journalRetentionSeconds: env.RUNLINE_JOURNAL_RETENTION_SECONDS,
    bodyLimit: env.RUNLINE_BODY_LIMIT,
    corsOrigins: corsOriginsOf(env.RUNLINE_CORS_ORIGINS, apiKeys.size > 0),
    // The guard stands in for authentication, so it is on exactly when there are no keys (whatever HOST is).
    allowedHosts: apiKeys.size > 0 || env.RUNLINE_ALLOWED_HOSTS.trim() === "*" ? null : splitList(env.RUNLINE_ALLOWED_HOSTS).map((h) => hostnameOf(h)!),
    runTimeoutMs: env.RUNLINE_RUN_TIMEOUT_MS,
    runMaxOutputBytes: env.RUNLINE_RUN_MAX_OUTPUT_BYTES,
    quotas: tenantQuotas(env, apiKeys.size > 0),
    lockDurationMs: env.RUNLINE_LOCK_DURATION_MS,
    stalledIntervalMs: env.RUNLINE_STALLED_INTERVAL_MS,
    maxAttempts: env.RUNLINE_MAX_ATTEMPTS,
    reconcileIntervalMs: env.RUNLINE_RECONCILE_INTERVAL_MS,
    reconcileGraceMs: env.RUNLINE_RECONCILE_GRACE_MS,
    controlPollMs: env.RUNLINE_CONTROL_POLL_MS,
    shutdownGraceMs: env.RUNLINE_SHUTDOWN_GRACE_MS,
    retryForMs: env.RUNLINE_RETRY_FOR_MS,
    model,
    logLevel: env.LOG_LEVEL,
    adminKey: env.RUNLINE_ADMIN_KEY ?? null,
    queueDashboardActions: env.RUNLINE_QUEUE_DASHBOARD_ACTIONS,
    healthTimeoutMs: env.RUNLINE_HEALTH_TIMEOUT_MS,
    opsPort: env.RUNLINE_OPS_PORT ?? null,
    quiet: env.RUNLINE_QUIET,
    demo: env.RUNLINE_DEMO,
    postgres: {
      max: env.RUNLINE_PG_POOL_MAX ?? defaultPoolMax(processes),
      connectTimeoutMs: env.RUNLINE_PG_CONNECT_TIMEOUT_MS,
      queueTimeoutMs: env.RUNLINE_PG_QUEUE_TIMEOUT_MS,
      statementTimeoutMs: env.RUNLINE_PG_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: env.RUNLINE_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
  });
}
