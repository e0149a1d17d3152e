import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "../..");
const MAIN = path.join(REPO_ROOT, "apps/runline/src/main.ts");
/** Lines of stderr kept per process: a whole scenario's worth (takeovers are attributed from them), still bounded. */
const TAIL_LINES = 3000;
const READY_TIMEOUT_MS = 60_000;

/** Every process this suite started, so a Ctrl-C or a crash of the suite never leaves one behind. */
const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** A Runline process (`--role api|worker`) with the last lines of its log, as deployed (`node --import tsx main.ts`). */
export interface RunlineProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Resolves once it logged "Runline started" (a worker then takes jobs, an API answers). */
  ready: Promise<void>;
  /** Resolves with the exit code or signal once it is gone. */
  exited: Promise<string>;
  alive(): boolean;
  /** Whether this suite killed it (otherwise an exit is a crash worth reporting). */
  killedOnPurpose(): boolean;
  /** The last {@link TAIL_LINES} lines of stderr (JSON log lines). */
  tail(): string[];
  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs` for a process that does not go). */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** Sends a signal that does not end it (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void;
  /** Every signal the suite sent it, with when (ms since the epoch): takeovers are attributed to these. */
  readonly signals: Array<{ signal: NodeJS.Signals; at: number }>;
}

export function spawnRunline(name: string, role: "api" | "worker", env: Record<string, string>): RunlineProcess {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "--role", role, "--no-demo"], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  live.add(child);
  const lines: string[] = [];
  let partial = "";
  let started = false;
  let readyTimer: NodeJS.Timeout | undefined;
  let markStarted: () => void = () => undefined;
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => {
      live.delete(child);
      clearTimeout(readyTimer);
      resolve(signal ?? String(code));
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    markStarted = resolve;
    readyTimer = setTimeout(() => reject(new Error(`${name} did not start within ${READY_TIMEOUT_MS} ms:\n${lines.slice(-20).join("\n")}`)), READY_TIMEOUT_MS);
    void exited.then((how) => reject(new Error(`${name} exited (${how}) before it started:\n${lines.slice(-20).join("\n")}`)));
  });
  ready.catch(() => undefined);
  child.stderr!.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      if (!started && line.includes('"msg":"Runline started"')) {
        started = true;
        clearTimeout(readyTimer);
        markStarted();
      }
      lines.push(line);
    }
    if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  let killed = false;
  const signals: Array<{ signal: NodeJS.Signals; at: number }> = [];
  return {
    name,
    child,
    pid: child.pid!,
    ready,
    exited,
    alive,
    killedOnPurpose: () => killed,
    signals,
    signal(signal) {
      signals.push({ signal, at: Date.now() });
      child.kill(signal);
    },
    tail: () => (partial ? [...lines, partial] : [...lines]),
    async kill(signal = "SIGTERM", graceMs = 15_000) {
      killed = true;
      if (!alive()) return void (await exited);
      signals.push({ signal, at: Date.now() });
      // A stopped process keeps a SIGTERM pending until SIGCONT; SIGKILL works on it anyway.
      if (signal !== "SIGKILL") child.kill("SIGCONT");
      child.kill(signal);
      const timer = setTimeout(() => alive() && child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
