import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ManagedServer, PortInUseError, down } from "./managed-server";
import { trackDir, untrackDir } from "./orphans";
import { freePort, rawRedisCommand } from "./ports";
import { spawnServer } from "./server-process";

/** A redis-server owned by one test, on its own loopback port and directory. */
export interface PrivateRedis {
  port: number;
  /** `redis://127.0.0.1:PORT` */
  url: string;
  /** Working directory (AOF files, log); removed by stop(). */
  dir: string;
  /**
   * Takes the server down and brings it back on the same port and directory. `mode: "graceful"` (default) is a
   * SIGTERM shutdown, `"kill"` a SIGKILL crash; `downMs` is how long it stays down in between. Data survives only
   * with `appendOnly` (fsync on every write, so even a crash keeps every acknowledged write).
   */
  restart(opts?: { downMs?: number; mode?: "graceful" | "kill" }): Promise<void>;
  /** SIGKILL, no restart; `start()` brings it back. */
  kill(): Promise<void>;
  /** Starts it again after kill() and waits until it answers; a no-op while it runs. */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing is answered until resume(). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Kills the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

const START_ATTEMPTS = 3;

/** Starts a private redis-server on a free 127.0.0.1 port and resolves once it answers. */
export async function startPrivateRedis(opts: { appendOnly?: boolean; extraArgs?: string[] } = {}): Promise<PrivateRedis> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runline-redis-"));
    trackDir(dir);
    const server = redisServer(port, dir, opts.appendOnly ?? false, opts.extraArgs ?? []);
    try {
      await server.start();
      return handle(port, dir, server);
    } catch (err) {
      await server.kill();
      removeDir(dir);
      // The port was free when chosen but someone bound it first: pick another.
      if (!(err instanceof PortInUseError) || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

function redisServer(port: number, dir: string, appendOnly: boolean, extraArgs: string[]): ManagedServer {
  const persistence = appendOnly ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", ...persistence, "--daemonize", "no", "--logfile", "", ...extraArgs];
  return new ManagedServer({
    name: "redis",
    logPath: path.join(dir, "redis.log"),
    gracefulSignal: "SIGTERM",
    launch: () => spawnServer("redis-server", args, { cwd: dir, logPath: path.join(dir, "redis.log") }),
    // PONG alone could come from another server that took the port; INFO tells whose process answers. A server
    // still loading its AOF answers -LOADING, which is "not yet".
    probe: async (pid) => {
      const reply = await rawRedisCommand(port, "INFO server", (r) => /process_id:\d+\r\n/.test(r));
      return reply.includes(`process_id:${pid}\r\n`);
    },
  });
}

function handle(port: number, dir: string, server: ManagedServer): PrivateRedis {
  let stopped = false;
  const live = () => {
    if (stopped) throw new Error(`private redis on ${port} was stopped`);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async restart({ downMs, mode = "graceful" } = {}) {
      live();
      if (mode === "kill") await server.kill();
      else await server.shutdown();
      await down(downMs);
      await server.start();
    },
    kill: () => server.kill(),
    start: async () => {
      live();
      await server.start();
    },
    pause: () => server.pause(),
    resume: () => server.resume(),
    async stop() {
      stopped = true;
      await server.kill();
      removeDir(dir);
    },
  };
}

function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  untrackDir(dir);
}
