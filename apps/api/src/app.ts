import express, { type Express, type RequestHandler } from "express";
import { randomUUID } from "node:crypto";
import { errorFields, observeRequests, SILENT_LOGGER, type Logger, type RunlineMetrics } from "@runline/observability";
import { authenticate } from "./http/auth";
import { cors } from "./http/cors";
import { hostGuard } from "./http/host-guard";
import { createOriginPolicy } from "./http/origins";
import { errorHandler, notFoundHandler } from "./http/error-handler";
import { jsonBody, refuseUnsafeQuery } from "./http/input-guard";
import { metaRoutes, type HealthChecks } from "./routes/meta.routes";
import { protocolRoutes } from "./routes/protocol.routes";
import { runsRoutes } from "./routes/runs.routes";
import { threadsRoutes } from "./routes/threads.routes";
import { assistantsRoutes } from "./routes/assistants.routes";
import { dashboardRoutes } from "./routes/dashboard.routes";
import { OpsService, type OpsServiceDeps } from "./services/ops.service";
import type { CancelService } from "./services/cancel.service";
import type { RunsService } from "./services/runs.service";
import type { ThreadsService } from "./services/threads.service";
import type { GraphRegistry } from "@runline/engine";
import { UNLIMITED_STREAMS, type StreamQuota } from "./quotas/stream-slots";

/** What the ops routes need; shared by the full API and a worker's ops-only app. */
export interface OpsDeps {
  healthChecks: HealthChecks;
  /** Per-dependency bound of a `/readyz` check. @defaultValue 1500 */
  healthTimeoutMs?: number;
  version: string;
  /** Root logger; each request gets a child (`requestId`, `method`, `path`). @defaultValue silent */
  logger?: Logger;
  /** This instance's metrics: HTTP and SSE are counted, and `/metrics` serves the registry. */
  metrics?: RunlineMetrics;
  /** Key for `/metrics` and `/admin/*`; null or absent = those routes are disabled. */
  adminKey?: string | null;
  /** Admin pages behind the key, by path under `/admin/` (`/admin/queues` → bull-board). */
  adminPages?: Record<string, RequestHandler>;
}

export interface ApiDeps extends OpsDeps {
  threads: ThreadsService;
  runs: RunsService;
  cancels: CancelService;
  registry: GraphRegistry;
  apiKeys: ReadonlyMap<string, string>;
  heartbeatMs: number;
  /** How long an SSE client may leave its socket full before it is dropped. @defaultValue 30000 */
  sseSlowClientMs?: number;
  bodyLimit: string;
  /**
   * Origins allowed to call the API from a browser: exact origins, `*` (any) or `loopback` (any http(s) origin on
   * a loopback name or one of `allowedHosts`, any port); empty = no CORS headers.
   */
  corsOrigins?: readonly string[];
  /** Open-stream limits per tenant and in all (`StreamSlots`). @defaultValue no limit */
  streamQuota?: StreamQuota;
  /**
   * The host guard for a server without API keys: requests must be addressed to a loopback name or one of these
   * (lower-case hostnames), and come from an allowed origin or none. null or absent = no guard (API keys are set).
   */
  allowedHosts?: readonly string[] | null;
  /** What the run dashboard (`/admin/dashboard`, `/admin/api/…`, behind the admin key) reads; absent = no dashboard. */
  dashboard?: OpsServiceDeps;
}

/** A client's `x-request-id` is echoed only when it looks like an id (it goes into every log line of the request). */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

function requestContext(deps: OpsDeps): RequestHandler[] {
  return [
    (req, res, next) => {
      const given = req.get("x-request-id");
      res.locals.requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
      res.set("X-Request-Id", res.locals.requestId);
      next();
    },
    observeRequests({ logger: deps.logger ?? SILENT_LOGGER, metrics: deps.metrics }),
    (_req, res, next) => {
      const logger = res.locals.logger as Logger;
      res.locals.logError = (err: unknown) => logger.error("Request failed", errorFields(err));
      next();
    },
  ];
}

function opsRoutes(deps: OpsDeps) {
  return metaRoutes({
    checks: deps.healthChecks,
    version: deps.version,
    healthTimeoutMs: deps.healthTimeoutMs,
    adminKey: deps.adminKey,
    metrics: deps.metrics,
    adminPages: deps.adminPages,
  });
}

/** The Express app without `listen()`, so tests and the composition root can mount it anywhere. */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(requestContext(deps));
  const origins = createOriginPolicy(deps.corsOrigins ?? [], deps.allowedHosts ?? []);
  app.use(cors(origins));
  // The validation boundary (issue #9): queries here, bodies after the ops routes (which take none of ours).
  app.use(refuseUnsafeQuery);
  const dashboard = deps.dashboard
    ? dashboardRoutes({ ops: new OpsService(deps.dashboard), runs: deps.runs, cancels: deps.cancels, sse: { heartbeatMs: deps.heartbeatMs, slowClientMs: deps.sseSlowClientMs } })
    : {};
  app.use(opsRoutes({ ...deps, adminPages: { ...deps.adminPages, ...dashboard } }));
  // After the ops routes: the probes must answer whatever name the orchestrator uses, and the rest of them needs
  // the admin key, which a rebinding page does not have. Everything below is open when there are no API keys.
  if (deps.allowedHosts) app.use(hostGuard(deps.allowedHosts, origins));
  app.use(jsonBody(deps.bodyLimit));
  app.use(authenticate(deps.apiKeys));
  app.use(assistantsRoutes(deps.registry));
  app.use(threadsRoutes(deps.threads));
  const sse = { heartbeatMs: deps.heartbeatMs, slowClientMs: deps.sseSlowClientMs };
  const streamQuota = deps.streamQuota ?? UNLIMITED_STREAMS;
  app.use(runsRoutes(deps.runs, deps.cancels, deps.threads, sse, streamQuota));
  app.use(protocolRoutes(deps.runs, deps.threads, sse, streamQuota));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

/** Only the ops routes (`/healthz`, `/readyz`, `/metrics`, `/admin/*`): what a worker-only process serves on its ops port. */
export function createOpsApp(deps: OpsDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(requestContext(deps));
  app.use(refuseUnsafeQuery);
  app.use(opsRoutes(deps));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
