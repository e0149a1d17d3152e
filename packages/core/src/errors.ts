/** Stable error codes clients can branch on; one catalog for the whole service. */
export type ErrorCode =
  | "VALIDATION_FAILED"
  | "UNAUTHORIZED"
  | "NOT_FOUND"
  | "THREAD_NOT_FOUND"
  | "RUN_NOT_FOUND"
  | "ASSISTANT_NOT_FOUND"
  | "CHECKPOINT_NOT_FOUND"
  | "THREAD_EXISTS"
  | "THREAD_BUSY"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "ADMIN_DISABLED"
  | "ADMIN_KEY_REQUIRED"
  | "ADMIN_KEY_INVALID"
  | "DASHBOARD_HEADER_REQUIRED"
  | "HOST_NOT_ALLOWED"
  | "ORIGIN_NOT_ALLOWED"
  | "DEPENDENCY_UNAVAILABLE"
  | "RATE_LIMITED"
  | "TOO_MANY_RUNS"
  | "TOO_MANY_STREAMS"
  | "INTERNAL";

/** Base of every error the service throws on purpose; the HTTP layer maps it to a response in one place. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;
  /** Response headers the answer must carry (a `WWW-Authenticate` challenge, say). */
  readonly headers?: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; details?: unknown; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.status = options.status ?? 500;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** The resource does not exist, or belongs to another tenant (indistinguishable on purpose). */
export class NotFoundError extends AppError {
  constructor(code: Extract<ErrorCode, `${string}NOT_FOUND`>, message: string) {
    super(code, message, { status: 404 });
    this.name = "NotFoundError";
  }
}

/** The request conflicts with the current state (thread busy, id taken). */
export class ConflictError extends AppError {
  constructor(code: Extract<ErrorCode, "THREAD_EXISTS" | "THREAD_BUSY">, message: string) {
    super(code, message, { status: 409 });
    this.name = "ConflictError";
  }
}

/** The request is malformed; `details` names the offending fields. */
export class ValidationError extends AppError {
  constructor(message: string, details?: unknown, status = 422) {
    super("VALIDATION_FAILED", message, { status, details });
    this.name = "ValidationError";
  }
}

/** Missing or unknown API key. */
export class UnauthorizedError extends AppError {
  constructor(message = "Missing or invalid API key") {
    super("UNAUTHORIZED", message, { status: 401 });
    this.name = "UnauthorizedError";
  }
}

/**
 * A dependency (Postgres) could not serve the request in time: no free connection, or a statement hit its
 * timeout. The failed statement did not commit; the client may retry after `retryAfterSeconds` (sent as `Retry-After`).
 */
export class DependencyUnavailableError extends AppError {
  readonly retryAfterSeconds: number;

  constructor(message: string, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super("DEPENDENCY_UNAVAILABLE", message, { status: 503, cause: options.cause });
    this.name = "DependencyUnavailableError";
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}

/**
 * A tenant (or the whole service) is over a quota: too many run creations in the window, too many runs pending or
 * running, or too many open streams. Nothing was written; the client may retry after `retryAfterSeconds`.
 */
export class QuotaExceededError extends AppError {
  readonly retryAfterSeconds: number;

  constructor(code: Extract<ErrorCode, "RATE_LIMITED" | "TOO_MANY_RUNS" | "TOO_MANY_STREAMS">, message: string, retryAfterSeconds: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(code, message, { status: 429, headers: { "Retry-After": String(seconds) }, details: { retry_after_seconds: seconds } });
    this.name = "QuotaExceededError";
    this.retryAfterSeconds = seconds;
  }
}
