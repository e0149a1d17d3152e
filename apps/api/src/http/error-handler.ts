import type { ErrorRequestHandler, RequestHandler } from "express";
import { ZodError } from "zod";
import { AppError, DependencyUnavailableError, INPUT_LIMITS, NotFoundError, truncate, type ErrorCode } from "@runline/core";
import { errorFields } from "@runline/observability";
import { translateGraphError } from "./graph-errors";
import { translatePgError } from "./pg-errors";

/** The longest `detail` an error answer carries; a validation answer stays a few KB whatever the input. */
const MAX_DETAIL = 1000;
/** `details` larger than this (as JSON) are dropped rather than sent. */
const MAX_DETAILS_JSON = 4096;

/** One JSON error body for every failure (RFC 9457 fields plus LangGraph-style `detail` and a stable `code`). */
function problem(res: Parameters<RequestHandler>[1], status: number, code: ErrorCode, detail: string, extra: Record<string, unknown> = {}) {
  // The request log line names the code (see observeRequests).
  res.locals.errorCode = code;
  const bounded = truncate(detail, MAX_DETAIL);
  res
    .status(status)
    .type("application/problem+json")
    .json({ type: "about:blank", title: code, status, code, detail: bounded, message: bounded, requestId: res.locals.requestId, ...extra });
}

/**
 * A ZodError as at most {@link INPUT_LIMITS.errorIssues} issues with truncated paths and messages: 80 KB of bad
 * stream modes must not come back as 4.5 MB.
 */
function zodProblem(err: ZodError) {
  const max = INPUT_LIMITS.errorIssues;
  const cut = (s: string) => truncate(s, INPUT_LIMITS.errorMessageLength);
  const issues = err.issues.slice(0, max).map((i) => ({ path: cut(i.path.map(String).join(".")), message: cut(i.message) }));
  const more = err.issues.length - issues.length;
  const detail = issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; ") + (more > 0 ? `; and ${more} more` : "");
  return { detail, extra: { issues, ...(more > 0 ? { issues_omitted: more } : {}) } };
}

function detailsOf(details: unknown): Record<string, unknown> {
  if (details === undefined || details === null) return {};
  const json = JSON.stringify(details);
  return json !== undefined && json.length <= MAX_DETAILS_JSON ? { details } : {};
}

/**
 * The only place an error becomes an HTTP response. Client mistakes are always 4xx: the LangGraph SDK
 * retries 5xx, which would re-POST a run.
 */
export const errorHandler: ErrorRequestHandler = (thrown, _req, res, _next) => {
  if (res.headersSent) {
    res.end();
    return;
  }
  const err = translatePgError(thrown) ?? translateGraphError(thrown) ?? thrown;
  if (err instanceof DependencyUnavailableError) {
    res.locals.logger?.warn("Request failed: dependency unavailable", errorFields(err.cause ?? err));
    res.set("Retry-After", String(err.retryAfterSeconds));
  }
  if (err instanceof AppError) {
    if (err.headers) res.set(err.headers);
    return problem(res, err.status, err.code, err.message, detailsOf(err.details));
  }
  if (err instanceof ZodError) {
    const { detail, extra } = zodProblem(err);
    return problem(res, 422, "VALIDATION_FAILED", detail, extra);
  }
  // body-parser errors carry a status and a type.
  if (err?.type === "entity.too.large") return problem(res, 413, "PAYLOAD_TOO_LARGE", "Request body is too large");
  if (err?.type === "entity.parse.failed") return problem(res, 400, "VALIDATION_FAILED", "Request body is not valid JSON");
  if (err?.type === "charset.unsupported" || err?.type === "encoding.unsupported" || err?.status === 415) {
    return problem(res, 415, "UNSUPPORTED_MEDIA_TYPE", String(err.message ?? "Unsupported media type"));
  }
  if (typeof err?.status === "number" && err.status >= 400 && err.status < 500) {
    return problem(res, err.status, "VALIDATION_FAILED", String(err.message ?? "Bad request"));
  }
  res.locals.logger?.error("Request failed", errorFields(err));
  return problem(res, 500, "INTERNAL", "Internal server error");
};

/** Every unknown route: a 404 through the one error exit. */
export const notFoundHandler: RequestHandler = (req, _res, next) => next(new NotFoundError("NOT_FOUND", `No route for ${req.method} ${truncate(req.path, 200)}`));
