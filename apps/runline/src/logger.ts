/** Minimal structured logger: one JSON line per message on stderr; message contents and secrets never go in fields. */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

export function createLogger(name: string, level: string): Logger {
  const min = LEVELS.indexOf(level);
  const write = (lvl: string) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS.indexOf(lvl) < min) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, name, msg, ...fields })}\n`);
  };
  return { info: write("info"), warn: write("warn"), error: write("error") };
}

export function errorFields(err: unknown): Record<string, unknown> {
  const e = err as Error;
  return { err: { name: e?.name, message: e?.message, stack: e?.stack } };
}
