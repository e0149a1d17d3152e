import fs from "node:fs";
import type { ServerProcess } from "./server-process";

/** What a concrete server (Redis, Postgres) tells the lifecycle. */
export interface ServerSpec {
  /** For messages: "redis", "postgres". */
  name: string;
  logPath: string;
  /** Spawns the server on its fixed port and data. */
  launch(): Promise<ServerProcess>;
  /** One readiness attempt: true only when *this* process answers (not another one that took the port). */
  probe(pid: number): Promise<boolean>;
  /** Signal for a graceful shutdown of the main process. */
  gracefulSignal: NodeJS.Signals;
}

/** Thrown when the server exited before it answered because its port was taken (the caller picks another). */
export class PortInUseError extends Error {}

const READY_TIMEOUT_MS = 15_000;
const POLL_MS = 20;

/**
 * The lifecycle both private servers share: start and wait until it answers, pause, shut down gracefully or
 * kill, always waiting for an observable condition (an answer, an exit) against a deadline, never a fixed time.
 */
export class ManagedServer {
  private proc: ServerProcess | undefined;
  private paused = false;

  constructor(private readonly spec: ServerSpec) {}

  /** Whether the server process is up (it may be paused). */
  get running(): boolean {
    return this.proc?.running() ?? false;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const proc = await this.spec.launch();
    this.proc = proc;
    this.paused = false;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (!proc.running()) {
        await proc.gone;
        const log = tail(this.spec.logPath);
        if (/Address already in use/i.test(log)) throw new PortInUseError(`${this.spec.name}: port in use\n${log}`);
        throw new Error(`private ${this.spec.name} exited before it answered; log (${this.spec.logPath}):\n${log}`);
      }
      if (await this.spec.probe(proc.pid).catch(() => false)) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`private ${this.spec.name} did not answer within ${READY_TIMEOUT_MS} ms; log:\n${tail(this.spec.logPath)}`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Graceful shutdown with `signal` (default: the spec's); SIGKILLs everything if it is not down within `graceMs`. */
  async shutdown(signal: NodeJS.Signals = this.spec.gracefulSignal, graceMs = 10_000): Promise<void> {
    const proc = this.proc;
    if (!proc?.running()) return;
    // A stopped process keeps a pending SIGTERM/SIGINT until SIGCONT: wake it so it can act on it.
    if (this.paused) this.resume();
    proc.signal(signal);
    const timer = setTimeout(() => proc.signalAll("SIGKILL"), graceMs);
    try {
      await proc.gone;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILLs the server and everything it forked (works on a paused server too), and waits until all are gone. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    proc.signalAll("SIGKILL");
    this.paused = false;
    await proc.gone;
  }

  /** SIGSTOP: the server keeps its sockets but answers nothing (a hung host, a long GC pause). */
  pause(): void {
    if (!this.running) throw new Error(`private ${this.spec.name} is not running`);
    this.proc!.signalAll("SIGSTOP");
    this.paused = true;
  }

  /** SIGCONT after pause(). */
  resume(): void {
    if (!this.running) throw new Error(`private ${this.spec.name} is not running`);
    this.proc!.signalAll("SIGCONT");
    this.paused = false;
  }
}

/** Down time for a restart; the one place where waiting a fixed time is the point. */
export function down(ms: number | undefined): Promise<void> {
  return ms ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
