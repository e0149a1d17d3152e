import type { Request, RequestHandler, Response } from "express";
import type { Logger } from "./logger";
import type { RunlineMetrics } from "./metrics";

/** Options of {@link observeRequests}. */
export interface ObserveRequestsOptions {
  logger: Logger;
  metrics?: RunlineMetrics;
  /** Paths logged at `debug` instead of `info` (probes and scrapes would drown the log). @defaultValue health, readiness, metrics */
  quietPaths?: ReadonlySet<string>;
}

const QUIET_PATHS: ReadonlySet<string> = new Set(["/ok", "/healthz", "/readyz", "/metrics"]);

/**
 * Express middleware, mounted after the request id is set: gives each request a child logger
 * (`res.locals.logger`: requestId, method, path), logs "Request finished" with status, duration and tenant when
 * the response ends (2xx/3xx at info, 4xx at warn, 5xx at error), counts HTTP metrics, and tracks open SSE
 * responses. Query strings, headers and bodies are never logged.
 */
export function observeRequests(options: ObserveRequestsOptions): RequestHandler {
  const quiet = options.quietPaths ?? QUIET_PATHS;
  const { metrics } = options;
  return (req, res, next) => {
    const startedAt = performance.now();
    const logger = options.logger.child({ requestId: res.locals.requestId, method: req.method, path: req.path });
    res.locals.logger = logger;
    if (metrics) trackSse(res, metrics);
    res.once("close", () => {
      const seconds = (performance.now() - startedAt) / 1000;
      const status = res.statusCode;
      const route = routeOf(req);
      metrics?.httpRequests.inc({ method: req.method, route, status: String(status) });
      metrics?.httpDuration.observe({ method: req.method, route }, seconds);
      const fields: Record<string, unknown> = { status, durationMs: Math.round(seconds * 1000), route };
      if (res.locals.tenantId) fields.tenant = res.locals.tenantId;
      if (res.locals.errorCode) fields.code = res.locals.errorCode;
      // A client that went away before the response ended (a closed SSE stream, an aborted wait).
      if (!res.writableFinished) fields.aborted = true;
      if (status >= 500) logger.error("Request finished", fields);
      else if (status >= 400) logger.warn("Request finished", fields);
      else if (quiet.has(req.path)) logger.debug("Request finished", fields);
      else logger.info("Request finished", fields);
    });
    next();
  };
}

/** The matched route pattern (`/threads/:threadId/runs`), never the raw path: label values must stay bounded. */
function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path === "string") return req.baseUrl + path;
  return req.baseUrl || "unmatched";
}

/**
 * Counts the response in `runline_sse_subscribers` from the moment its `text/event-stream` headers go out until
 * it closes. Headers always go out through `writeHead` (`flushHeaders`, the first `write` and `end` all call it).
 */
function trackSse(res: Response, metrics: RunlineMetrics): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: Response, ...args: unknown[]) {
    res.writeHead = writeHead;
    const result = (writeHead as (...a: unknown[]) => Response).apply(this, args);
    if (String(res.getHeader("content-type") ?? "").startsWith("text/event-stream")) {
      metrics.sseSubscribers.inc();
      res.once("close", () => metrics.sseSubscribers.dec());
    }
    return result;
  } as Response["writeHead"];
}
