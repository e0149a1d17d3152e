import { loadConfig } from "@runline/config";
import { runDemo } from "./demo";
import { errorFields, type LogLevel } from "@runline/observability";
import { startRunline } from "./runtime";

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
  const runline = await startRunline(config);
  const { logger } = runline;
  process.on("unhandledRejection", (reason) => logger.error("Unhandled rejection", { reason: String(reason) }));
  logger.info("Runline started", {
    role: config.role,
    url: runline.url,
    model: config.model.provider,
    tenants: config.apiKeys.size ? new Set(config.apiKeys.values()).size : "single-tenant (no RUNLINE_API_KEYS: listening on loopback only)",
    ...(runline.opsUrl ? { opsUrl: runline.opsUrl } : {}),
    admin: config.adminKey
      ? "/metrics and /admin/queues need the admin key (x-admin-key or Authorization: Bearer)"
      : "disabled (set RUNLINE_ADMIN_KEY to serve /metrics and /admin/queues)",
  });
  let stopping = false;
  const stop = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info("Stopping", { signal });
    // SIGTERM is a deploy: runs get the grace period, then move on with their partial kept. SIGINT (Ctrl-C)
    // hands them on at once (closing without a drain would wait for every run to finish).
    await runline.drain(signal === "SIGTERM" ? undefined : 0);
    process.exit(code);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  if (runline.url && config.role === "all" && (args.demoOnly || (config.demo && !args.noDemo))) {
    const apiKey = config.apiKeys.keys().next().value;
    // The tour's own requests would interleave a log line each with its output: unless LOG_LEVEL was chosen,
    // only warnings are logged while it runs.
    if (env.LOG_LEVEL === undefined) logger.setLevel("warn");
    try {
      await runDemo({ baseUrl: runline.url, apiKey, write: (text) => process.stdout.write(text) });
    } catch (err) {
      logger.error("Demo failed", errorFields(err));
      if (args.demoOnly) return stop("demo-failed", 1);
    } finally {
      logger.setLevel(config.logLevel as LogLevel);
    }
    if (args.demoOnly) return stop("demo-done");
    process.stdout.write(`Runline is serving at ${runline.url} (Ctrl-C to stop). The README has curl examples.\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`runline: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
