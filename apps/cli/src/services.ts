import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

/** Set in the environment of the process with-services.sh started, so it does not wrap itself again. */
export const SERVICES_READY = "RUNLINE_SERVICES_READY";

/**
 * with-services.sh: the one place that finds or starts Redis and Postgres (`npm start` and `npm test` use it too).
 * The published package carries a copy in dist/ (build.mjs); a source checkout uses scripts/ at the repo root.
 */
export function withServicesScript(packageRoot: string): string {
  const candidates = [path.join(packageRoot, "dist", "with-services.sh"), path.resolve(packageRoot, "..", "..", "scripts", "with-services.sh")];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`with-services.sh is missing (looked at ${candidates.join(", ")}); reinstall the package`);
  return found;
}

/**
 * Runs this same command again under with-services.sh, which exports REDIS_URL and DATABASE_URL (starting
 * private servers if it has to) and stops what it started when the command ends. Resolves with the exit code.
 * It needs bash; on Windows use WSL, or set REDIS_URL and DATABASE_URL (the script then only checks them).
 */
export function rerunWithServices(script: string, argv: string[], env: Record<string, string>, cwd: string): Promise<number> {
  const child = spawn("bash", [script, process.execPath, ...process.execArgv, ...argv], {
    cwd,
    env: { ...env, [SERVICES_READY]: "1" },
    stdio: "inherit",
  });
  // Ctrl-C reaches the whole process group by itself; a supervisor's TERM/HUP is sent to us alone: pass it on.
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onTerm = forward("SIGTERM");
  const onHup = forward("SIGHUP");
  process.on("SIGTERM", onTerm);
  process.on("SIGHUP", onHup);
  process.on("SIGINT", () => undefined);
  return new Promise((resolve, reject) => {
    child.once("error", (err) => reject(new Error(`cannot run bash for ${script}: ${err.message}`)));
    child.once("exit", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : 143)));
  });
}
