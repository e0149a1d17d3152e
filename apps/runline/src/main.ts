import { InvalidConfigError, loadConfig, type RunlineConfig } from "@runline/config";
import { runDemo } from "./demo";
import { isClusterChild, reportReadyToPrimary, startCluster } from "./cluster";
import { createLogger, errorFields, type Logger, type LogLevel } from "./logger";

/**
 * Loaded only by a process that serves: a cluster's primary only forks and supervises, and without the runtime's
 * modules (LangGraph, BullMQ, Express, …) it holds ~85 MB instead of ~165.
 */
async function startRunline(config: RunlineConfig) {
  const { startRunline: start } = await import("./runtime.js");
  return start(config);
}

/** `--role api|worker|all` overrides RUNLINE_ROLE; `--demo-only` runs the tour and exits; `--no-demo` skips it. */
function parseArgs(argv: string[]) {
  const i = argv.indexOf("--role");
  const role = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith("--role="))?.slice("--role=".length);
  return { role, demoOnly: argv.includes("--demo-only"), noDemo: argv.includes("--no-demo") };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const env: Record<string, string | undefined> = { ...process.env, ...(args.role ? { RUNLINE_ROLE: args.role } : {}) };
  const config = loadConfig(env);
  if (isClusterChild()) return serveAsChild(config);
  if (config.processes > 1) return serveAsCluster(config, env, args);

  const runline = await startRunline(config);
  const { logger } = runline;
  process.on("unhandledRejection", (reason) => logger.error("Unhandled rejection", { reason: String(reason) }));
  logger.info("Runline started", startedFields(config, runline.url, runline.opsUrl));
  onStopSignals(logger, (signal) => runline.drain(signal === "SIGTERM" ? undefined : 0).then(() => true));
  await maybeRunDemo(config, env, args, runline.url, logger, (level) => logger.setLevel(level as LogLevel));
}

/** The fields of the "Runline started" line (one per service: the single process, or the cluster's primary). */
function startedFields(config: RunlineConfig, url: string | null, opsUrl: string | null) {
  return {
    role: config.role,
    url,
    model: config.model.provider,
    tenants: config.apiKeys.size ? new Set(config.apiKeys.values()).size : "single-tenant (no RUNLINE_API_KEYS: listening on loopback only)",
    ...(opsUrl ? { opsUrl } : {}),
    admin: config.adminKey
      ? "/metrics and /admin/queues need the admin key (x-admin-key or Authorization: Bearer)"
      : "disabled (set RUNLINE_ADMIN_KEY to serve /metrics and /admin/queues)",
  };
}

/**
 * SIGTERM is a deploy: runs get the grace period, then move on with their partial kept. SIGINT (Ctrl-C) hands
 * them on at once (closing without a drain would wait for every run to finish). `stop` resolves whether the
 * stop was clean; the process then exits 0 (or 1).
 */
let stopping = false;
let stopNow: (reason: string, code: number) => void = (_reason, code) => process.exit(code);
function onStopSignals(logger: Logger, stop: (signal: NodeJS.Signals) => Promise<boolean>) {
  const handle = (signal: NodeJS.Signals, reason: string = signal, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info("Stopping", { signal: reason });
    void stop(signal).then((clean) => process.exit(clean ? code : 1));
  };
  stopNow = (reason, code) => handle("SIGINT", reason, code);
  process.on("SIGINT", () => handle("SIGINT"));
  process.on("SIGTERM", () => handle("SIGTERM"));
}

/** One of the cluster's processes: serves like a single process, tells the primary when it is ready, never runs the tour. */
async function serveAsChild(config: RunlineConfig) {
  const runline = await startRunline(config);
  const { logger } = runline;
  process.on("unhandledRejection", (reason) => logger.error("Unhandled rejection", { reason: String(reason) }));
  logger.info("Runline process started", { url: runline.url, workerConcurrency: config.role === "api" ? 0 : config.workerConcurrency });
  onStopSignals(logger, (signal) => runline.drain(signal === "SIGTERM" ? undefined : 0).then(() => true));
  // The primary went away (killed): drain as on SIGTERM rather than serve on unsupervised.
  process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
  reportReadyToPrimary({ type: "runline:ready", url: runline.url, opsUrl: runline.opsUrl, workerConcurrency: config.workerConcurrency }, logger);
}

/** The primary of `RUNLINE_PROCESSES` > 1: forks the processes, supervises them, runs the tour once against the shared port. */
async function serveAsCluster(config: RunlineConfig, env: Record<string, string | undefined>, args: ReturnType<typeof parseArgs>) {
  const logger = createLogger("runline", config.logLevel);
  // Signals that arrive while the children start are honoured once they are up (or failed).
  let pending: NodeJS.Signals | null = null;
  const early = (signal: NodeJS.Signals) => () => void (pending ??= signal);
  const earlyInt = early("SIGINT");
  const earlyTerm = early("SIGTERM");
  process.on("SIGINT", earlyInt).on("SIGTERM", earlyTerm);
  const runline = await startCluster(config, logger, env);
  process.off("SIGINT", earlyInt).off("SIGTERM", earlyTerm);
  logger.info("Runline started", {
    ...startedFields(config, runline.url, runline.opsUrl),
    processes: config.processes,
    pids: runline.pids(),
    ...(config.role !== "api" ? { workerConcurrency: `${config.workerConcurrency} per process, ${config.workerConcurrency * config.processes} in all` } : {}),
  });
  onStopSignals(logger, (signal) => runline.stop(signal));
  if (pending) return void process.kill(process.pid, pending);
  await maybeRunDemo(config, env, args, runline.url, logger, (level) => {
    logger.setLevel(level as LogLevel);
    runline.broadcast({ type: "runline:log-level", level });
  });
}

/** The tour (role `all` only), then the "serving" line; `--demo-only` stops afterwards. */
async function maybeRunDemo(
  config: RunlineConfig,
  env: Record<string, string | undefined>,
  args: ReturnType<typeof parseArgs>,
  url: string | null,
  logger: Logger,
  setLevel: (level: string) => void,
) {
  if (!url || config.role !== "all" || !(args.demoOnly || (config.demo && !args.noDemo))) return;
  const apiKey = config.apiKeys.keys().next().value;
  // The tour's own requests would interleave a log line each with its output: unless LOG_LEVEL was chosen,
  // only warnings are logged while it runs.
  if (env.LOG_LEVEL === undefined) setLevel("warn");
  let failed = false;
  try {
    await runDemo({ baseUrl: url, apiKey, write: (text) => process.stdout.write(text) });
  } catch (err) {
    logger.error("Demo failed", errorFields(err));
    failed = true;
  } finally {
    setLevel(config.logLevel);
  }
  if (args.demoOnly) return stopNow(failed ? "demo-failed" : "demo-done", failed ? 1 : 0);
  process.stdout.write(`Runline is serving at ${url} (Ctrl-C to stop). The README has curl examples.\n`);
}

main().catch((err) => {
  // A bad setting is told in its message; anything else (a module that failed to load) keeps its stack.
  const detail = err instanceof InvalidConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`runline: failed to start: ${detail}\n`);
  process.exit(1);
});
