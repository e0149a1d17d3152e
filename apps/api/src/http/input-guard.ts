import express, { type RequestHandler } from "express";
import { AppError, INPUT_LIMITS, ValidationError } from "@runline/core";
import { findUnsafeValue, jsonDepthOffset } from "./json-guard";

/** True when the request carries a body (a length above zero, or a chunked one). */
function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  if (headers["transfer-encoding"] !== undefined) return true;
  const length = Number(headers["content-length"] ?? 0);
  return !Number.isFinite(length) || length > 0;
}

const UTF8 = /^"?utf-?8"?$/i;

/**
 * A body must be `application/json` in UTF-8: anything else is 415, never silently ignored (a JSON body sent as
 * text/plain used to create an empty thread). Requests without a body pass (POST …/cancel takes only a query).
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (req.method === "GET" || req.method === "HEAD" || !hasBody(req.headers)) return next();
  const type = req.get("content-type") ?? "";
  if (!req.is("application/json")) {
    return next(unsupportedMediaType(`Request bodies must be JSON sent as application/json; got ${type ? JSON.stringify(type.slice(0, 80)) : "no Content-Type"}`));
  }
  const charset = /;\s*charset=([^;\s]*)/i.exec(type)?.[1];
  // The depth check reads raw UTF-8 bytes; JSON is UTF-8 anyway (RFC 8259 §8.1).
  if (charset !== undefined && !UTF8.test(charset)) return next(unsupportedMediaType(`JSON bodies must be UTF-8; got charset ${JSON.stringify(charset.slice(0, 40))}`));
  next();
};

function unsupportedMediaType(message: string): AppError {
  return new AppError("UNSUPPORTED_MEDIA_TYPE", message, { status: 415 });
}

/**
 * The JSON body parser, bounded: `limit` caps the bytes (413), and the nesting depth is checked on the raw text
 * before `JSON.parse` runs, so nothing downstream recurses through a hostile document.
 */
export function jsonBodyParser(limit: string): RequestHandler {
  return express.json({
    limit,
    strict: false,
    verify: (_req, _res, buf) => {
      const offset = jsonDepthOffset(buf, INPUT_LIMITS.jsonDepth);
      if (offset >= 0) {
        // body-parser keeps an error's own status (else it would answer 403).
        throw new ValidationError(`Request body nests deeper than ${INPUT_LIMITS.jsonDepth} levels (at byte ${offset})`, { maxDepth: INPUT_LIMITS.jsonDepth });
      }
    },
  });
}

/** Refuses a parsed body whose strings Postgres cannot store (NUL, lone surrogates) or whose numbers are not finite. */
export const refuseUnsafeBody: RequestHandler = (req, _res, next) => {
  const unsafe = req.body === undefined ? null : findUnsafeValue(req.body);
  if (unsafe) return next(new ValidationError(`${unsafe.path}: ${unsafe.problem}`, { path: unsafe.path }));
  next();
};

/** The same for the query string (every route, the admin ones included): `?before=%00` must not reach Postgres. */
export const refuseUnsafeQuery: RequestHandler = (req, _res, next) => {
  const unsafe = findUnsafeValue(req.query, "query");
  if (unsafe) return next(new ValidationError(`${unsafe.path}: ${unsafe.problem}`, { path: unsafe.path }));
  next();
};

/** The whole body boundary, in order: media type, bounded parse, unsafe strings. */
export function jsonBody(limit: string): RequestHandler[] {
  return [requireJsonBody, jsonBodyParser(limit), refuseUnsafeBody];
}
