import type { ErrorRequestHandler, RequestHandler } from "express";
import { ZodError } from "zod";
import { AppError, DependencyUnavailableError } from "@runline/core";
import { errorFields } from "@runline/observability";
import { translatePgError } from "./pg-errors";

/** One JSON error body for every failure (RFC 9457 fields plus LangGraph-style `detail` and a stable `code`). */
export function problem(res: Parameters<RequestHandler>[1], status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
  // The request log line names the code (see observeRequests).
  res.locals.errorCode = code;
  res
    .status(status)
    .type("application/problem+json")
    .json({ type: "about:blank", title: code, status, code, detail, message: detail, requestId: res.locals.requestId, ...extra });
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
  const err = translatePgError(thrown) ?? thrown;
  if (err instanceof DependencyUnavailableError) {
    res.locals.logger?.warn("Request failed: dependency unavailable", errorFields(err.cause ?? err));
    res.set("Retry-After", String(err.retryAfterSeconds));
  }
  if (err instanceof AppError) return problem(res, err.status, err.code, err.message, err.details ? { details: err.details } : {});
  if (err instanceof ZodError) {
    const issues = err.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    const detail = issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; ");
    return problem(res, 422, "VALIDATION_FAILED", detail, { issues });
  }
  // body-parser errors carry a status and a type.
  if (err?.type === "entity.too.large") return problem(res, 413, "PAYLOAD_TOO_LARGE", "Request body is too large");
  if (err?.type === "entity.parse.failed") return problem(res, 400, "VALIDATION_FAILED", "Request body is not valid JSON");
  if (typeof err?.status === "number" && err.status >= 400 && err.status < 500) {
    return problem(res, err.status, "VALIDATION_FAILED", String(err.message ?? "Bad request"));
  }
  res.locals.logger?.error("Request failed", errorFields(err));
  return problem(res, 500, "INTERNAL", "Internal server error");
};

export const notFoundHandler: RequestHandler = (req, res) => problem(res, 404, "NOT_FOUND", `No route for ${req.method} ${req.path}`);
