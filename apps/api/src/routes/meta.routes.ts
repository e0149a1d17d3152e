import { Router, type RequestHandler } from "express";
import { AppError, withTimeout } from "@runline/core";
import { adminKeyMatches, readAdminKey } from "@runline/observability";

export interface HealthChecks {
  /** Each check resolves when its dependency answers; the name is reported on failure. */
  [name: string]: () => Promise<unknown>;
}

/** Options of {@link metaRoutes}. */
export interface MetaRoutesOptions {
  /** `/readyz` checks, by dependency name. */
  checks: HealthChecks;
  version: string;
  /** Longest each `/readyz` check may take before it counts as failed. @defaultValue 1500 */
  healthTimeoutMs?: number;
  /** The admin key for `/metrics` and `/admin/*`; null or absent = those routes are disabled (404). */
  adminKey?: string | null;
  /** The Prometheus text for `/metrics`; absent = no `/metrics` route. */
  metrics?: { contentType: string; render(): Promise<string> };
  /** Admin pages mounted behind the admin key, by path (`/admin/queues` → bull-board). */
  adminPages?: Record<string, RequestHandler>;
}

/**
 * Liveness, readiness, the LangGraph server's `/ok` and `/info` (no key needed), and the ops routes behind the
 * admin key: `/metrics` and the admin pages. Mounted before the body parser and the tenant check.
 */
export function metaRoutes(options: MetaRoutesOptions): Router {
  const { checks, version } = options;
  const timeoutMs = options.healthTimeoutMs ?? 1500;
  const router = Router();
  router.get("/ok", (_req, res) => {
    res.json({ ok: true });
  });
  router.get("/info", (_req, res) => {
    res.json({ version, runline_version: version, context: "js", flags: { assistants: true, crons: false, langsmith: false } });
  });
  router.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });
  router.get("/readyz", async (_req, res) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(Promise.resolve().then(check), timeoutMs);
          return [name, "ok"] as const;
        } catch (err) {
          return [name, (err as Error)?.message || "unreachable"] as const;
        }
      }),
    );
    const ok = results.every(([, status]) => status === "ok");
    const failing = results.filter(([, status]) => status !== "ok").map(([name]) => name);
    res.status(ok ? 200 : 503).json({ ok, checks: Object.fromEntries(results), ...(ok ? {} : { failing }) });
  });

  const admin = requireAdminKey(options.adminKey ?? null);
  if (options.metrics) {
    const metrics = options.metrics;
    router.get("/metrics", admin, async (_req, res) => {
      res.type(metrics.contentType).send(await metrics.render());
    });
  }
  router.use("/admin", admin);
  for (const path of Object.keys(options.adminPages ?? {})) {
    if (!path.startsWith("/admin/")) throw new Error(`admin page ${path} must be under /admin/ (the admin key guards only that)`);
  }
  for (const [path, page] of Object.entries(options.adminPages ?? {})) router.use(path, page);
  return router;
}

/**
 * Guards the ops routes. With a key: 401 when none is presented (with a Basic challenge, so a browser asks for it:
 * any user name, the key as password), 403 when a wrong one is. Without a key the routes are disabled (404): an
 * admin key-less deployment may sit behind a proxy that makes loopback reachable from anywhere.
 */
function requireAdminKey(adminKey: string | null): RequestHandler {
  return (req, _res, next) => {
    if (!adminKey) {
      return next(new AppError("ADMIN_DISABLED", "Admin routes (/metrics, /admin/*) are disabled: set RUNLINE_ADMIN_KEY to enable them", { status: 404 }));
    }
    const given = readAdminKey({ get: (name) => req.get(name) });
    if (given === undefined) {
      return next(
        new AppError("ADMIN_KEY_REQUIRED", "Send the admin key as x-admin-key or Authorization: Bearer", {
          status: 401,
          headers: { "WWW-Authenticate": 'Basic realm="Runline admin", charset="UTF-8"' },
        }),
      );
    }
    if (!adminKeyMatches(given, adminKey)) return next(new AppError("ADMIN_KEY_INVALID", "Wrong admin key", { status: 403 }));
    next();
  };
}
