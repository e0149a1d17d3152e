import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loadConfig, type RunlineConfig } from "@runline/config";
import { namespaceEnv, type TestNamespace } from "@runline/testing";
import { startRunline } from "../../apps/runline/src/runtime";
import { processTree } from "./quiet";

const REPO_ROOT = path.resolve(__dirname, "../..");

/** The environment Runline gets in both modes (in-process: through `loadConfig`; own process: as its env). */
export function runlineEnv(ns: TestNamespace, port: number, opts: TargetOptions = {}): Record<string, string> {
  return {
    ...namespaceEnv(ns),
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
    HOST: "127.0.0.1",
    PORT: String(port),
    LOG_LEVEL: "error",
    // A worker-only process has no API: its ops routes (GET /ok) answer on the port instead.
    ...(opts.env?.RUNLINE_ROLE === "worker" ? { RUNLINE_OPS_PORT: String(port) } : {}),
    ...opts.env,
  };
}

export interface TargetOptions {
  /** Replaces the namespace's database URL (e.g. with extra connection `options`). */
  databaseUrl?: string;
  /** Extra Node flags for an own-process Runline (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Extra environment for Runline (e.g. `RUNLINE_WORKER_CONCURRENCY`). */
  env?: Record<string, string>;
  /** Pins an own-process Runline to these CPUs (`taskset -c`, e.g. "0" or "0,1"). */
  cpus?: string;
  /** Also appends an own-process Runline's stderr (its logs) to this file, for looking into a bad round. */
  logPath?: string;
}

/** A running Runline the benchmark talks to over HTTP, wherever it runs. */
export interface RunlineTarget {
  mode: "in-process" | "own-process";
  url: string;
  config: RunlineConfig;
  /** OS pid of the Runline process (this process in `in-process` mode). */
  pid: number;
  close(): Promise<void>;
}

/** API + worker in this process, as run-bench.ts always did (and the tests do). */
export async function startInProcessRunline(ns: TestNamespace, opts: TargetOptions = {}): Promise<RunlineTarget> {
  const config = loadConfig(runlineEnv(ns, 0, opts));
  const runline = await startRunline(config);
  return { mode: "in-process", url: runline.url!, config, pid: process.pid, close: () => runline.close() };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runline as deployed: `node --import tsx apps/runline/src/main.ts --role all --no-demo` in its own OS process
 * (API + worker in that process), on the benchmark's private namespace. Resolves once `GET /ok` answers.
 */
export async function startRunlineProcess(ns: TestNamespace, opts: TargetOptions = {}, timeoutMs = 30_000): Promise<RunlineTarget> {
  const port = await freePort();
  const env = runlineEnv(ns, port, opts);
  const nodeCommand = [
    process.execPath,
    ...(opts.nodeArgs ?? []),
    "--import",
    "tsx",
    path.join(REPO_ROOT, "apps/runline/src/main.ts"),
    "--role",
    opts.env?.RUNLINE_ROLE ?? "all",
    "--no-demo",
  ];
  // taskset execs node in place, so the child's pid is node's own (its /proc CPU and memory are Runline's).
  const [command, ...args] = opts.cpus ? ["taskset", "-c", opts.cpus, ...nodeCommand] : nodeCommand;
  const child: ChildProcess = spawn(command!, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const logFile = opts.logPath ? createWriteStream(opts.logPath, { flags: "a" }) : undefined;
  child.stderr!.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
    logFile?.write(chunk);
  });
  child.once("exit", () => logFile?.end());
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Runline process exited (${child.exitCode ?? child.signalCode}) before it answered /ok:\n${log}`);
    try {
      const res = await fetch(`${url}/ok`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`Runline process did not answer /ok within ${timeoutMs} ms:\n${log}`);
    }
    await sleep(100);
  }
  return {
    mode: "own-process",
    url,
    config: loadConfig(env),
    pid: child.pid!,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const code = await Promise.race([exited, sleep(10_000).then(() => "timeout" as const)]);
      if (code === "timeout") {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** VmRSS / VmHWM (peak RSS since start) of a process from /proc, in MB; NaN where /proc is unavailable. */
export function procMemoryMb(pid: number): { rssMb: number; hwmMb: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
  } catch {
    return { rssMb: Number.NaN, hwmMb: Number.NaN };
  }
}

/** VmRSS of a process and its live descendants together (a cluster's primary and children), in MB. */
export function treeRssMb(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + (procMemoryMb(pid).rssMb || 0), 0);
}

/**
 * Samples the VmRSS of another process and its descendants every `intervalMs` (and the root's VmHWM at stop),
 * for peaks during one scenario.
 */
export function startProcMemorySampler(pid: number, intervalMs = 50): { stop(): { peakRssMb: number; rssBeforeMb: number; hwmMb: number } } {
  const before = treeRssMb(pid);
  let peak = before;
  const timer = setInterval(() => {
    const rssMb = treeRssMb(pid);
    if (rssMb > peak) peak = rssMb;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return { peakRssMb: Math.max(peak, treeRssMb(pid)), rssBeforeMb: before, hwmMb: procMemoryMb(pid).hwmMb };
    },
  };
}
