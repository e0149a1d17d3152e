import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { CLI_ROOT } from "./fixture-project";

/** A `runline` command running as a child process, as a user starts it. */
export interface CliProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  /** SIGTERM (what a supervisor sends; the CLI passes it on), then waits for the exit (SIGKILL after 15 s). */
  stop(): Promise<number | null>;
}

export function runCli(args: string[], options: { cwd: string; env: Record<string, string>; bin?: string }): CliProcess {
  const bin = options.bin ?? path.join(CLI_ROOT, "bin", "runline.mjs");
  const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: "warn", RUNLINE_SHUTDOWN_GRACE_MS: "0", ...options.env };
  delete env.RUNLINE_SERVICES_READY;
  const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout!.on("data", (d) => (text += d));
  child.stderr!.on("data", (d) => (text += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

/** Waits for the "serving … at URL" line, failing with the output when the process exits first or the deadline passes. */
export function servingUrl(cli: CliProcess, timeoutMs = 60_000): Promise<string> {
  return waitForOutput(cli, /serving .* at (http:\/\/\S+)/, timeoutMs);
}

/** Waits until the output matches `pattern`; resolves with its first group (or the whole match). */
export async function waitForOutput(cli: CliProcess, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const found = () => {
    const match = pattern.exec(cli.output());
    return match ? (match[1] ?? match[0]) : undefined;
  };
  return new Promise<string>((resolve, reject) => {
    const check = () => {
      const url = found();
      if (url) return finish(() => resolve(url));
      if (Date.now() > deadline) return finish(() => reject(new Error(`runline did not start within ${timeoutMs} ms:\n${cli.output()}`)));
    };
    const onExit = (code: number | null) => finish(() => reject(new Error(`runline exited (${code}) before serving:\n${cli.output()}`)));
    const finish = (then: () => void) => {
      cli.child.stdout!.off("data", check);
      cli.child.off("exit", onExit);
      clearInterval(timer);
      then();
    };
    // Output events are the signal; the interval only enforces the deadline.
    const timer = setInterval(check, 250);
    cli.child.stdout!.on("data", check);
    cli.child.once("exit", onExit);
    check();
  });
}
