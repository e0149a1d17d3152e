import { AppError, ConflictError, DependencyUnavailableError, ValidationError } from "@runline/core";

/** SQLSTATEs this module translates (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const LOCK_NOT_AVAILABLE = "55P03";
const QUERY_CANCELED = "57014";
const IDLE_IN_TRANSACTION_TIMEOUT = "25P03";
const TOO_MANY_CONNECTIONS = "53300";
const CANNOT_CONNECT_NOW = "57P03";
/** U+0000 in `text`, and `\u0000` or a lone surrogate in `jsonb`: characters Postgres cannot store. */
const UNSTORABLE_CHARACTER = new Set(["22021", "22P05"]);

/** Connect timeouts are reported by message only (Runline's pool queue, pg-pool, and the socket connect). */
const CONNECT_TIMEOUT = /timeout exceeded when trying to connect|timed out waiting for a free Postgres connection|Connection terminated due to connection timeout/;

/**
 * The {@link AppError} a Postgres failure means for the client, or null for any other error (a bug: 500).
 * The error handler calls it before anything else, so this is the one place pg errors get a status:
 * - a row lock held elsewhere (`FOR UPDATE NOWAIT`, `lock_timeout`) → 409 THREAD_BUSY;
 * - no connection in time, too many connections, `statement_timeout`, idle transaction ended → 503
 *   DEPENDENCY_UNAVAILABLE with `Retry-After`: the database is saturated, not the request wrong;
 * - a character Postgres cannot store → 422. The input guard refuses those first, naming the field; this is
 *   the backstop for a path it does not cover. The statement failed, so nothing was written.
 */
export function translatePgError(err: unknown): AppError | null {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== "object" || err instanceof AppError) return null;
  const code = typeof e.code === "string" ? e.code : "";
  const message = typeof e.message === "string" ? e.message : "";
  if (code === LOCK_NOT_AVAILABLE) {
    return new ConflictError("THREAD_BUSY", "Thread is busy: another state update or run start is in progress; retry shortly");
  }
  if (CONNECT_TIMEOUT.test(message) || code === TOO_MANY_CONNECTIONS || code === CANNOT_CONNECT_NOW) {
    return new DependencyUnavailableError("Database is busy: no connection became free in time; retry shortly", { cause: err });
  }
  if (UNSTORABLE_CHARACTER.has(code)) return new ValidationError("The request holds characters that cannot be stored (U+0000 or a lone surrogate)");
  if (code === QUERY_CANCELED || code === IDLE_IN_TRANSACTION_TIMEOUT) {
    return new DependencyUnavailableError("Database is busy: the request's query ran out of time; retry shortly", { cause: err });
  }
  return null;
}
