import { Router } from "express";

export interface HealthChecks {
  /** Each check resolves when its dependency answers; the name is reported on failure. */
  [name: string]: () => Promise<unknown>;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref())]);
}

/** Liveness, readiness and the LangGraph server's `/ok` and `/info`. These need no API key. */
export function metaRoutes(checks: HealthChecks, version: string): Router {
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
          await withTimeout(check(), 2000);
          return [name, "ok"] as const;
        } catch (err) {
          return [name, (err as Error).message || "unreachable"] as const;
        }
      }),
    );
    const ok = results.every(([, status]) => status === "ok");
    res.status(ok ? 200 : 503).json({ ok, checks: Object.fromEntries(results) });
  });
  return router;
}
