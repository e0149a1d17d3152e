import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { namespaceEnv, type TestNamespace } from "@runline/testing";

const REPO_ROOT = path.resolve(__dirname, "../../..");

/** A Runline worker in its own OS process, on a test namespace: what production runs as `--role worker`. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once the worker logged that it started (it is then taking jobs). */
  ready: Promise<void>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnWorker(ns: TestNamespace, env: Record<string, string> = {}): WorkerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "apps/runline/src/main.ts"), "--role", "worker"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...namespaceEnv(ns),
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('"msg":"Runline started"')) resolve();
    });
    void exited.then((code) => reject(new Error(`worker exited (${code}) before it started:\n${log}`)));
  });
  ready.catch(() => undefined);
  return {
    child,
    ready,
    exited,
    async kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
