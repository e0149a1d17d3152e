import { execFileSync } from "node:child_process";
import os from "node:os";
import type Redis from "ioredis";
import type { Pool } from "pg";

export interface Environment {
  date: string;
  nproc: number;
  cpuModel: string;
  totalMemGb: number;
  node: string;
  platform: string;
  redis: string;
  postgres: string;
  /** HEAD and how many tracked files differ from it (others may be editing while the bench runs). */
  git: string;
}

function gitState(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const head = git("rev-parse", "--short", "HEAD");
    const dirty = git("status", "--porcelain", "--untracked-files=no").split("\n").filter(Boolean).length;
    return dirty ? `${head} + ${dirty} modified tracked file(s)` : `${head} (clean)`;
  } catch {
    return "unknown";
  }
}

/** Where the numbers came from: they mean little without the machine and the service versions. */
export async function describeEnvironment(redis: Redis, pool: Pool): Promise<Environment> {
  const info = await redis.info("server");
  const pg = await pool.query<{ server_version: string }>("SHOW server_version");
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim() ?? "unknown",
    totalMemGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown",
    postgres: pg.rows[0]?.server_version ?? "unknown",
    git: gitState(),
  };
}
