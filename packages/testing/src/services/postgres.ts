import fs from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { ManagedServer, PortInUseError, down } from "./managed-server";
import { dropSysvSegment, trackDir, untrackDir } from "./orphans";
import { freePort } from "./ports";
import { copyDataDir, makeOwnedDir, pgBinDir, pgOwner, templateDataDir, type PgOwner } from "./postgres-setup";
import { spawnServer } from "./server-process";

/** A Postgres cluster owned by one test, on its own loopback port and data directory (trust auth, user postgres). */
export interface PrivatePostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  url: string;
  /** Holds `data/` (the cluster), `postgres.log` and the unix socket; removed by stop(). */
  dir: string;
  /**
   * Takes the server down and brings it back on the same port and data. `mode`: `"fast"` (default, SIGINT: a clean
   * shutdown that rolls back open transactions), `"immediate"` (SIGQUIT: no checkpoint, crash recovery on start) or
   * `"kill"` (SIGKILL of every server process, like a power cut). `downMs` is how long it stays down in between.
   */
  restart(opts?: { downMs?: number; mode?: "fast" | "immediate" | "kill" }): Promise<void>;
  /** SIGKILLs the postmaster and its backends, no restart; `start()` brings it back (after crash recovery). */
  kill(): Promise<void>;
  /** Starts it again after kill() and waits until it answers `SELECT 1`; a no-op while it runs. */
  start(): Promise<void>;
  /** SIGSTOP of every server process: connections stay open, nothing is answered until resume(). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Shuts the server down and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

const START_ATTEMPTS = 3;
const SHUTDOWN_SIGNAL = { fast: "SIGINT", immediate: "SIGQUIT" } as const;

/** Starts a private Postgres (a copy of a per-process initdb template) on a free 127.0.0.1 port. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const owner = pgOwner();
  const bin = pgBinDir();
  const templateData = await templateDataDir(bin, owner);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dir = makeOwnedDir("runline-pg-", owner);
    const data = path.join(dir, "data");
    trackDir(dir, path.join(data, "postmaster.pid"));
    await copyDataDir(templateData, data);
    const server = postgresServer(bin, owner, port, dir);
    try {
      await server.start();
      return handle(port, dir, server);
    } catch (err) {
      await server.kill();
      removeCluster(dir);
      // The port was free when chosen but someone bound it first: pick another.
      if (!(err instanceof PortInUseError) || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

function postgresServer(bin: string, owner: PgOwner | undefined, port: number, dir: string): ManagedServer {
  const data = path.join(dir, "data");
  const logPath = path.join(dir, "postgres.log");
  // Unix socket paths are limited to ~107 bytes; tests connect over TCP anyway, so a deep TMPDIR just goes without.
  const sockets = dir.length < 90 ? dir : "";
  const settings = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: sockets,
    // Only a crash of the server is simulated, never of the machine: the kernel's page cache outlives a SIGKILL,
    // so fsync and torn-page protection buy nothing but slow starts and checkpoints. synchronous_commit stays on:
    // it makes COMMIT write the WAL to the kernel before answering, so a killed server keeps every committed row.
    fsync: "off",
    full_page_writes: "off",
    shared_buffers: "16MB",
    huge_pages: "off",
    max_connections: "100",
  };
  const args = ["-D", data, "-p", String(port), ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
  return new ManagedServer({
    name: "postgres",
    logPath,
    gracefulSignal: SHUTDOWN_SIGNAL.fast,
    launch: () => spawnServer(path.join(bin, "postgres"), args, { cwd: dir, logPath, uid: owner?.uid, gid: owner?.gid }),
    // data_directory proves the answer comes from this cluster, not from a server that took the port meanwhile.
    probe: async () => (await queryOnce(port, "SHOW data_directory")) === data,
  });
}

function handle(port: number, dir: string, server: ManagedServer): PrivatePostgres {
  let stopped = false;
  const live = () => {
    if (stopped) throw new Error(`private postgres on ${port} was stopped`);
  };
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    async restart({ downMs, mode = "fast" } = {}) {
      live();
      if (mode === "kill") await server.kill();
      else await server.shutdown(SHUTDOWN_SIGNAL[mode]);
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
      // A clean shutdown removes the SysV segment; SIGKILL would leak it.
      await server.shutdown();
      removeCluster(dir);
    },
  };
}

/** Removes a cluster directory, first dropping the SysV segment a killed postmaster left behind. */
function removeCluster(dir: string): void {
  dropSysvSegment(path.join(dir, "data", "postmaster.pid"));
  fs.rmSync(dir, { recursive: true, force: true });
  untrackDir(dir);
}

/** One connection, one single-value query; the readiness probe. */
async function queryOnce(port: number, sql: string): Promise<unknown> {
  const client = new Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres", connectionTimeoutMillis: 1_000 });
  client.on("error", () => undefined); // a server dying mid-probe must not become an unhandled 'error' event
  try {
    await client.connect();
    const { rows } = await client.query(sql);
    return Object.values(rows[0] ?? {})[0];
  } finally {
    await client.end().catch(() => undefined);
  }
}
