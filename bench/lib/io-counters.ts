import Redis from "ioredis";
import { Client as PgClient } from "pg";

/**
 * Counts every Postgres query (by its first 70 characters) and every Redis command (by name) any client in this
 * process sends while `counting` is on: where a request's round trips go. Installed once per process, by patching
 * the two client classes' send methods (a benchmark's own instrument; never in Runline itself).
 */
export interface IoCounters {
  counting: boolean;
  readonly counts: Map<string, number>;
  /** Counts per `per` units (runs, joins…), largest first, one per line; only keys starting with `prefix` when given. */
  report(per: number, prefix?: string): string;
  /** Sum of the counts whose key starts with `prefix`. */
  total(prefix: string): number;
}

let installed: IoCounters | null = null;

export function installIoCounters(): IoCounters {
  if (installed) return installed;
  const counts = new Map<string, number>();
  const counters: IoCounters = {
    counting: false,
    counts,
    report: (per, prefix = "") =>
      [...counts]
        .filter(([key]) => key.startsWith(prefix))
        .sort((a, b) => b[1] - a[1])
        .map(([key, n]) => `${(n / per).toFixed(2).padStart(6)} ${key}`)
        .join("\n"),
    total: (prefix) => [...counts].reduce((sum, [key, n]) => (key.startsWith(prefix) ? sum + n : sum), 0),
  };
  const bump = (key: string) => counters.counting && counts.set(key, (counts.get(key) ?? 0) + 1);
  const query = PgClient.prototype.query as (...args: unknown[]) => unknown;
  (PgClient.prototype as { query: unknown }).query = function (this: unknown, ...args: unknown[]) {
    const q = args[0];
    const text = typeof q === "string" ? q : ((q as { text?: string })?.text ?? "?");
    bump(`pg ${text.replace(/\s+/g, " ").trim().slice(0, 70)}`);
    return query.apply(this, args);
  };
  const proto = Redis.prototype as unknown as { sendCommand(command: { name: string }, ...rest: unknown[]): unknown };
  const sendCommand = proto.sendCommand;
  proto.sendCommand = function (this: unknown, command: { name: string }, ...rest: unknown[]) {
    bump(`redis ${command.name}`);
    return sendCommand.call(this, command, ...rest);
  };
  return (installed = counters);
}
