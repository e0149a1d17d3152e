import { loadConfig } from "@runline/config";
import { startRunline } from "@runline/server";

/**
 * Starts Runline for the project (the environment is already the project's, see project-env.ts) and serves until
 * a signal: SIGTERM is a deploy (runs get the grace period, then move on with their partial kept), SIGINT hands
 * them on at once, the same policy as `npm start`. Resolves with the exit code.
 */
export async function serve(graphIds: string[], write: (line: string) => void): Promise<number> {
  const config = loadConfig(process.env);
  const runline = await startRunline(config);
  const where = runline.url ?? `worker${runline.opsUrl ? ` (ops routes at ${runline.opsUrl})` : ""}`;
  write(`serving ${graphIds.join(", ")} (role ${config.role}) at ${where}`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      write(`stopping (${signal})`);
      runline
        .drain(signal === "SIGTERM" ? undefined : 0)
        .then(() => resolve(0))
        .catch((err) => {
          write(`stop failed: ${(err as Error).message}`);
          resolve(1);
        });
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  });
}
