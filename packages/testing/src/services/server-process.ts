import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import { trackServer, untrackServer } from "./orphans";
import { isLive, membersOf, signalTree } from "./proc-tree.cjs";

/** A server process and everything it starts (backends, forks), with its output in a log file. */
export interface ServerProcess {
  readonly pid: number;
  /** Resolves when the main process has exited and none of the processes killed with it is alive any more. */
  readonly gone: Promise<void>;
  /** True until the main process exits. */
  running(): boolean;
  /** Signals the main process only (graceful shutdowns: a backend must not see the postmaster's SIGINT). */
  signal(signal: NodeJS.Signals): void;
  /** Signals the main process and all it started (SIGKILL, SIGSTOP, SIGCONT: a crash or a freeze hits them all). */
  signalAll(signal: NodeJS.Signals): void;
}

export interface SpawnServerOptions {
  cwd: string;
  logPath: string;
  uid?: number;
  gid?: number;
}

const GONE_TIMEOUT_MS = 5_000;

/**
 * Spawns a server in a session of its own (out of reach of a Ctrl-C aimed at jest, which would otherwise shut it
 * down behind the test's back) and registers it for cleanup if this process dies.
 */
export async function spawnServer(command: string, args: string[], opts: SpawnServerOptions): Promise<ServerProcess> {
  const log = fs.openSync(opts.logPath, "a");
  let child;
  try {
    child = spawn(command, args, { cwd: opts.cwd, detached: true, stdio: ["ignore", log, log], uid: opts.uid, gid: opts.gid });
  } finally {
    fs.closeSync(log); // the child holds its own copy of the descriptor
  }
  await once(child, "spawn"); // rejects with ENOENT/EACCES instead of an unhandled 'error' later
  const pid = child.pid!;
  trackServer(pid);
  let exited = false;
  const killed = new Set<number>();
  const gone = once(child, "exit").then(async () => {
    exited = true;
    untrackServer(pid);
    // What is left in its group is debris (a Redis fork whose parent died): kill it too. Then wait for everything
    // killed along with the server, so a new server on the same data dir or port never meets any of it (a
    // postmaster refuses to start while an old backend still holds its shared memory).
    for (const member of membersOf(pid)) {
      killed.add(member);
      try {
        process.kill(member, "SIGKILL");
      } catch {
        /* exited meanwhile */
      }
    }
    const deadline = Date.now() + GONE_TIMEOUT_MS;
    while ([...killed].some(isLive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  });
  return {
    pid,
    gone,
    running: () => !exited,
    signal: (signal) => {
      if (!exited) child.kill(signal);
    },
    signalAll: (signal) => {
      if (exited) return;
      const members = signalTree(pid, signal);
      if (signal === "SIGKILL") members.forEach((m) => killed.add(m));
    },
  };
}
