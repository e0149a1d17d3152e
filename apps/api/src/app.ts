import express, { type Express } from "express";
import { randomUUID } from "node:crypto";
import { authenticate } from "./http/auth";
import { errorHandler, notFoundHandler } from "./http/error-handler";
import { metaRoutes, type HealthChecks } from "./routes/meta.routes";
import { runsRoutes } from "./routes/runs.routes";
import { threadsRoutes } from "./routes/threads.routes";
import { assistantsRoutes } from "./routes/assistants.routes";
import type { CancelService } from "./services/cancel.service";
import type { RunsService } from "./services/runs.service";
import type { ThreadsService } from "./services/threads.service";
import type { GraphRegistry } from "@runline/engine";

export interface ApiDeps {
  threads: ThreadsService;
  runs: RunsService;
  cancels: CancelService;
  registry: GraphRegistry;
  apiKeys: ReadonlyMap<string, string>;
  healthChecks: HealthChecks;
  heartbeatMs: number;
  bodyLimit: string;
  version: string;
  logError?: (err: unknown) => void;
}

/** The Express app without `listen()`, so tests and the composition root can mount it anywhere. */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use((req, res, next) => {
    res.locals.requestId = req.get("x-request-id") ?? randomUUID();
    res.locals.logError = deps.logError;
    res.set("X-Request-Id", res.locals.requestId);
    res.set("Access-Control-Expose-Headers", "content-location, location, x-pagination-total, x-pagination-next, x-request-id");
    next();
  });
  app.use(metaRoutes(deps.healthChecks, deps.version));
  app.use(express.json({ limit: deps.bodyLimit, strict: false }));
  app.use(authenticate(deps.apiKeys));
  app.use(assistantsRoutes(deps.registry));
  app.use(threadsRoutes(deps.threads));
  app.use(runsRoutes(deps.runs, deps.cancels, deps.threads, deps.heartbeatMs));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
