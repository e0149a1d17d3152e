import { loadConfig } from "@runline/config";
import { startRunline } from "./runtime";

/** `--role api|worker|all` overrides RUNLINE_ROLE. */
function roleFromArgs(argv: string[]): string | undefined {
  const i = argv.indexOf("--role");
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith("--role="))?.slice("--role=".length);
}

async function main() {
  const role = roleFromArgs(process.argv.slice(2));
  const config = loadConfig({ ...process.env, ...(role ? { RUNLINE_ROLE: role } : {}) });
  const runline = await startRunline(config);
  const { logger } = runline;
  process.on("unhandledRejection", (reason) => logger.error("Unhandled rejection", { reason: String(reason) }));
  logger.info("Runline started", {
    role: config.role,
    url: runline.url,
    model: config.model.provider,
    tenants: config.apiKeys.size ? [...new Set(config.apiKeys.values())].length : "single-tenant (no RUNLINE_API_KEYS: listening on loopback only)",
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("Stopping", { signal });
    await runline.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((err) => {
  process.stderr.write(`runline: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
