import { performance } from "node:perf_hooks";
import Redis from "ioredis";
import { Client } from "pg";

/** One Postgres query or Redis command as this process issued it. */
export interface TraceEvent {
  kind: "pg" | "redis" | "http";
  /** First words of the SQL, or the Redis command name (EVALSHA of a known script shows as evalsha). */
  name: string;
  startMs: number;
  durationMs: number;
  /** The project function that issued it (`file:line function`), when the tracer was built with `callers`. */
  caller?: string;
}

/**
 * Bench-only instrumentation: wraps `pg.Client#query` and `ioredis#sendCommand` on their prototypes so every
 * query/command of this process (Runline's and the baseline's alike) can be counted or put on a timeline.
 * Costs one closure per call while recording, nothing otherwise; the project's code is not modified.
 */
export class IoTracer {
  private recording = false;
  private restore: (() => void) | null = null;
  events: TraceEvent[] = [];

  /** `callers`: also record which project function issued each call (a stack capture per call: slow). */
  constructor(private readonly opts: { callers?: boolean } = {}) {}

  /** Patches the prototypes (existing connections included); {@link uninstall} puts the originals back. */
  install(): void {
    if (this.restore) return;
    const tracer = this;
    const pgQuery = Client.prototype.query as (...args: any[]) => any;
    (Client.prototype as any).query = function (this: Client, ...args: any[]) {
      if (!tracer.recording) return pgQuery.apply(this, args);
      const first = args[0];
      const text: string = typeof first === "string" ? first : (first?.text ?? first?.name ?? "?");
      const done = tracer.start("pg", sqlName(text));
      const callbackIndex = args.findIndex((a) => typeof a === "function");
      if (callbackIndex >= 0) {
        const callback = args[callbackIndex];
        args[callbackIndex] = (...cbArgs: unknown[]) => {
          done();
          return callback(...cbArgs);
        };
        return pgQuery.apply(this, args);
      }
      const result = pgQuery.apply(this, args);
      if (result && typeof result.then === "function") result.then(done, done);
      else done();
      return result;
    };
    const send = Redis.prototype.sendCommand as (...args: any[]) => any;
    (Redis.prototype as any).sendCommand = function (this: Redis, command: any, ...rest: any[]) {
      if (tracer.recording && command?.promise) {
        const done = tracer.start("redis", redisName(command));
        command.promise.then(done, done);
      }
      return send.call(this, command, ...rest);
    };
    this.restore = () => {
      (Client.prototype as any).query = pgQuery;
      (Redis.prototype as any).sendCommand = send;
    };
  }

  uninstall(): void {
    this.restore?.();
    this.restore = null;
    this.recording = false;
  }

  record(on: boolean): void {
    this.recording = on;
  }

  reset(): TraceEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  private start(kind: TraceEvent["kind"], name: string): () => void {
    const startMs = performance.now();
    const caller = this.opts.callers ? projectCaller(new Error().stack ?? "") : undefined;
    let finished = false;
    return () => {
      if (finished) return;
      finished = true;
      this.events.push({ kind, name, startMs, durationMs: performance.now() - startMs, ...(caller ? { caller } : {}) });
    };
  }
}

/** `SELECT … FROM runs` → `SELECT runs`; enough to tell queries apart without printing whole statements. */
function sqlName(text: string): string {
  const sql = text.replace(/\s+/g, " ").trim();
  const verb = sql.split(" ")[0]!.toUpperCase();
  // LangGraph's checkpoint read selects from jsonb_each_text(...) subqueries before its real table.
  if (verb === "SELECT" && /jsonb_each_text/i.test(sql) && /\bcheckpoints\b/i.test(sql)) return "SELECT checkpoints (getTuple)";
  const target = /\b(?:FROM|INTO|UPDATE)\s+((?:"?\w+"?\.)?"?\w+"?)/i.exec(sql)?.[1];
  const table = target?.replace(/"/g, "").split(".").pop(); // drop the (per-namespace) schema
  return table ? `${verb} ${table}` : sql.slice(0, 40);
}

/** The innermost stack frame in Runline's own code (apps/, packages/), e.g. `runs.repo.ts:131 RunsRepo.countActiveForQuota`. */
function projectCaller(stack: string, depth = 3): string | undefined {
  const frames: string[] = [];
  for (const line of stack.split("\n").slice(1)) {
    const m = /at (?:async )?(?:(\S+) \()?.*\/((?:apps|packages)\/[^/]+\/src\/(?:[^/)]+\/)*([^/:)]+)):(\d+):\d+\)?$/.exec(line.trim());
    if (m && !m[2]!.includes("node_modules")) frames.push(`${m[3]}:${m[4]} ${m[1] ?? "<anonymous>"}`);
    if (frames.length === depth) break;
  }
  return frames.length ? frames.join(" < ") : undefined;
}

/** EVALSHA is both the journal append and every BullMQ script: tell them apart by the first key. */
function redisName(command: { name: string; args?: unknown[] }): string {
  const name = String(command.name);
  if (name !== "evalsha") return name;
  const firstKey = String(command.args?.[2] ?? "");
  if (/:run:[^:]+:events$/.test(firstKey)) return "evalsha (journal append)";
  if (/:runs:/.test(firstKey)) return "evalsha (bullmq)";
  return "evalsha";
}

/** Counts per kind/name, e.g. for "queries per run". */
export function countByName(events: TraceEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) counts[`${e.kind} ${e.name}`] = (counts[`${e.kind} ${e.name}`] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]));
}
