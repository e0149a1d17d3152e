import type { RequestHandler } from "express";
import type { OriginPolicy } from "./origins";

/** Sent when a preflight names no headers; otherwise the ones it asks for are allowed (an allowed origin is trusted). */
const ALLOWED_HEADERS = "content-type, accept, x-api-key, authorization, last-event-id, x-request-id";
/** `Content-Location`/`Location` carry the run id and the rejoin URL the SDK reads from a `runs/stream` answer. */
const EXPOSED_HEADERS = "content-location, location, retry-after, x-pagination-total, x-pagination-next, x-request-id";

/**
 * CORS for browser frontends on another origin (a `useStream` app on its own dev server). Which origins is the
 * config's decision (`RUNLINE_CORS_ORIGINS`, see {@link OriginPolicy}). Never `Allow-Credentials`: API keys are
 * headers the page sets, not cookies, so an origin that is allowed gets nothing it could not send itself.
 * Preflights are answered here, before authentication, as browsers send them without credentials.
 */
export function cors(policy: OriginPolicy): RequestHandler {
  return (req, res, next) => {
    const origin = req.get("origin");
    // The admin pages are same-origin only: their CSRF defence is a custom header no other page may send.
    if (origin && policy.allows(origin) && !isAdminPath(req.path)) {
      res.set("Access-Control-Allow-Origin", policy.any ? "*" : origin);
      if (!policy.any) res.vary("Origin");
      res.set("Access-Control-Expose-Headers", EXPOSED_HEADERS);
      if (req.method === "OPTIONS") {
        res.set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
        res.set("Access-Control-Allow-Headers", req.get("access-control-request-headers") ?? ALLOWED_HEADERS);
        res.set("Access-Control-Max-Age", "600");
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

function isAdminPath(path: string): boolean {
  return path === "/metrics" || path === "/admin" || path.startsWith("/admin/");
}
