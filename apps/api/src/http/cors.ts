import type { RequestHandler } from "express";

const ALLOWED_HEADERS = "content-type, x-api-key, authorization, last-event-id, x-request-id";
const EXPOSED_HEADERS = "content-location, location, x-pagination-total, x-pagination-next, x-request-id";

/**
 * CORS for browser frontends on another origin (a `useStream` app on its own dev server). `origins` is the
 * allow-list from `RUNLINE_CORS_ORIGINS`; empty = no CORS headers at all (same-origin or a proxy only), `*` = any
 * origin. Preflights are answered here, before authentication, as browsers send them without credentials.
 */
export function cors(origins: readonly string[]): RequestHandler {
  const any = origins.includes("*");
  return (req, res, next) => {
    const origin = req.get("origin");
    if (origin && (any || origins.includes(origin))) {
      res.set("Access-Control-Allow-Origin", any ? "*" : origin);
      if (!any) res.vary("Origin");
      res.set("Access-Control-Expose-Headers", EXPOSED_HEADERS);
      if (req.method === "OPTIONS") {
        res.set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
        res.set("Access-Control-Allow-Headers", req.get("access-control-request-headers") ?? ALLOWED_HEADERS);
        res.set("Access-Control-Max-Age", "600");
        res.status(204).end();
        return;
      }
    }
    next();
  };
}
