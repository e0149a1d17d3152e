import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { signalTree } from "./proc-tree.cjs";

// Everything a private server leaves on the machine is registered here, so that it goes away even when the test
// forgets stop() or dies. Two layers: an 'exit' handler (normal exit, process.exit) and a detached watchdog
// process that notices the end of its stdin pipe, which also covers SIGTERM/SIGKILL of a jest worker, where no
// handler runs.

const servers = new Set<number>();
const dirs = new Map<string, string | undefined>();
let reaper: ChildProcess | undefined;
let hooked = false;

/** Registers a server process to SIGKILL, with every process it started, if this process exits. */
export function trackServer(pid: number): void {
  ensureHooks();
  servers.add(pid);
  tell({ op: "+", server: pid });
}

/** The server exited: stop tracking it, so a recycled pid is never signalled. */
export function untrackServer(pid: number): void {
  servers.delete(pid);
  tell({ op: "-", server: pid });
}

/**
 * Registers a directory to remove if this process exits. `pidFile` (a postmaster.pid) lets the cleanup also drop
 * the SysV segment of a postmaster that was killed.
 */
export function trackDir(dir: string, pidFile?: string): void {
  ensureHooks();
  dirs.set(dir, pidFile);
  tell({ op: "+", dir, pidFile });
}

/** The directory was removed by its owner. */
export function untrackDir(dir: string): void {
  dirs.delete(dir);
  tell({ op: "-", dir });
}

function ensureHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const pid of servers) signalTree(pid, "SIGKILL");
    for (const [dir, pidFile] of dirs) {
      if (pidFile) dropSysvSegment(pidFile);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  try {
    reaper = spawn(process.execPath, [path.join(__dirname, "reaper.cjs")], {
      detached: true, // own session: a Ctrl-C or a group kill aimed at the tests must not take the watchdog along
      stdio: ["pipe", "ignore", "ignore"],
    });
    reaper.on("error", () => (reaper = undefined));
    reaper.stdin!.on("error", () => undefined);
    // Neither the watchdog nor its pipe may keep the test process (jest worker) alive.
    reaper.unref();
    (reaper.stdin as unknown as { unref?: () => void }).unref?.();
  } catch {
    reaper = undefined; // the 'exit' handler alone is still a best effort
  }
}

function tell(message: object): void {
  reaper?.stdin?.write(`${JSON.stringify(message)}\n`);
}

/** Removes the SysV segment named in a postmaster.pid (line 7: "key shmid"); a SIGKILLed postmaster leaks it. */
export function dropSysvSegment(pidFile: string): void {
  let shmid: string | undefined;
  try {
    shmid = fs.readFileSync(pidFile, "utf8").split("\n")[6]?.trim().split(/\s+/)[1];
  } catch {
    return; // no pid file: the server shut down cleanly and removed the segment itself
  }
  if (!shmid || !/^\d+$/.test(shmid)) return;
  try {
    spawnSync("ipcrm", ["-m", shmid], { stdio: "ignore" });
  } catch {
    /* no ipcrm: leave it, it is 56 bytes */
  }
}
