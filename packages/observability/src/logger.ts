import pino, { type DestinationStream, type Logger as PinoLogger } from "pino";
import { logSafeMessage, logSafeStack } from "./log-safe-message";

/**
 * Runline's structured logger: one JSON line per message (pino). Messages are constant strings and data goes in
 * fields: `logger.info("Run started", { runId, attempt })`. Message contents, inputs, outputs and secrets never go
 * in fields; the redaction list below is the safety net, not the rule.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (per request, per run). */
  child(fields: Record<string, unknown>): Logger;
  /** Whether `level` would be written (skip building expensive fields otherwise). */
  isLevelEnabled(level: LogLevel): boolean;
  /** Changes the level of this logger and every logger derived from the same root (children included). */
  setLevel(level: LogLevel): void;
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

const LEVEL_VALUES: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

function levelValue(level: string): number {
  const value = LEVEL_VALUES[level as LogLevel];
  if (value === undefined) throw new TypeError(`Unknown log level ${JSON.stringify(level)}`);
  return value;
}

/**
 * Field names whose values are replaced by `[redacted]` at the top level and up to two levels down: credentials
 * (`authorization`, `x-api-key`, `x-admin-key`, API keys, tokens, passwords, cookies) and LLM payloads (`input`,
 * `output`, `messages`, `content`), which must never reach a log.
 */
export const REDACTED_FIELDS = [
  "authorization",
  "x-api-key",
  "x-admin-key",
  "apiKey",
  "apiKeys",
  "api_key",
  "adminKey",
  "openaiApiKey",
  "token",
  "password",
  "cookie",
  "set-cookie",
  "input",
  "output",
  "messages",
  "content",
] as const;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const field of REDACTED_FIELDS) {
    const key = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
    const dotted = key.startsWith("[") ? key : `.${key}`;
    paths.push(key, `*${dotted}`, `*.*${dotted}`);
  }
  return paths;
}

/** Longest string and array written as a field value; longer ones are cut (a stack trace, a list of ids). */
const MAX_STRING = 2048;
const MAX_ARRAY = 50;
const MAX_DEPTH = 5;

function cap(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…(${value.length} chars)` : value;
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[nested]";
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ARRAY).map((v) => cap(v, depth + 1));
    if (value.length > MAX_ARRAY) items.push(`…(${value.length} items)`);
    return items;
  }
  if (value instanceof Error) return errorFields(value).err;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = cap(v, depth + 1);
  return out;
}

let stderr: DestinationStream | null = null;

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Where lines go. @defaultValue stderr, written synchronously (nothing is lost on `process.exit`) */
  destination?: DestinationStream;
}

/** Creates the root logger of one Runline instance: JSON lines, `level` and above, secrets redacted. */
export function createLogger(name: string, level: string, options: CreateLoggerOptions = {}): Logger {
  const destination = options.destination ?? (stderr ??= pino.destination({ dest: 2, sync: true }));
  // pino writes everything it is given; the level is checked here, in one place shared by the root and all its
  // children, so `setLevel` reaches loggers created earlier (per-request and per-run children).
  const threshold = { value: levelValue(level) };
  const root = pino(
    {
      name,
      level: "trace",
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths(), censor: "[redacted]" },
    },
    destination,
  );
  return wrap(root, threshold);
}

function wrap(logger: PinoLogger, threshold: { value: number }): Logger {
  const enabled = (level: LogLevel) => LEVEL_VALUES[level] >= threshold.value && level !== "silent";
  const write = (level: "debug" | "info" | "warn" | "error") => (msg: string, fields?: Record<string, unknown>) => {
    if (!enabled(level)) return;
    if (fields) logger[level](cap(fields) as Record<string, unknown>, msg);
    else logger[level](msg);
  };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (fields) => wrap(logger.child(cap(fields) as Record<string, unknown>), threshold),
    isLevelEnabled: enabled,
    setLevel(level) {
      threshold.value = levelValue(level);
    },
  };
}

/** A logger that writes nothing (the default where a logger is optional). */
export const SILENT_LOGGER: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => SILENT_LOGGER,
  isLevelEnabled: () => false,
  setLevel: () => undefined,
};

/**
 * `{ err: { name, message, code, stack } }` for a log line; never the error's other properties (they may hold
 * payloads), and the message (also in the stack's first line) cut where it starts quoting one.
 */
export function errorFields(err: unknown): { err: Record<string, unknown> } {
  if (!(err instanceof Error)) return { err: { message: logSafeMessage(err) } };
  const code = (err as { code?: unknown }).code;
  return {
    err: { name: err.name, message: logSafeMessage(err.message), ...(typeof code === "string" || typeof code === "number" ? { code } : {}), stack: logSafeStack(err) },
  };
}
