import { readFileSync } from "node:fs";
import path from "node:path";
import { Router, type RequestHandler } from "express";
import { AdminRunParams, AdminThreadParams, AdminThreadQuery, AppError, CancelQuery, DashboardListQuery, NotFoundError, type RunRecord, type TerminalRunStatus } from "@runline/core";
import { parse } from "../http/parse";
import { pipeSse, type SseTiming } from "../http/sse";
import type { CancelService } from "../services/cancel.service";
import type { OpsService } from "../services/ops.service";
import type { RunsService } from "../services/runs.service";
import { cancelView, runView } from "../services/views";

export interface DashboardDeps {
  ops: OpsService;
  runs: RunsService;
  cancels: CancelService;
  sse: SseTiming;
}

/** A cross-site form cannot set this header (Runline answers no CORS preflight under /admin), so a cancel needs the page itself. */
export const DASHBOARD_HEADER = "x-runline-dashboard";

const PAGE_FILE = path.join(__dirname, "..", "dashboard", "index.html");
/** Journal events a watched run streams to the page. */
const STREAM_EVENTS = new Set(["metadata", "messages", "error", "end"]);

/**
 * The run dashboard (`GET /admin/dashboard`) and the JSON/SSE endpoints it reads (`/admin/api/…`), by path, for
 * `adminPages`: mounted behind the admin key. Not tenant-scoped: it shows and stops every tenant's runs.
 */
export function dashboardRoutes(deps: DashboardDeps): Record<string, RequestHandler> {
  const page = Router();
  let html: string | null = null;
  page.get("/", (_req, res) => {
    html ??= readFileSync(PAGE_FILE, "utf8");
    res.set({
      "Cache-Control": "no-store",
      "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
      "X-Frame-Options": "DENY",
      "Referrer-Policy": "no-referrer",
    });
    res.type("html").send(html);
  });

  const api = Router();
  api.use((_req, res, next) => {
    res.set("Cache-Control", "no-store");
    next();
  });
  // Everything the page polls (every second) in one round trip.
  api.get("/overview", async (req, res) => {
    res.json(await deps.ops.overview(listQuery(req.query)));
  });
  api.get("/queue", async (_req, res) => {
    res.json({ queue: await deps.ops.queue() });
  });
  api.get("/runs/active", async (_req, res) => {
    res.json({ runs: await deps.ops.active() });
  });
  api.get("/runs/recent", async (req, res) => {
    res.json({ runs: await deps.ops.recent(listQuery(req.query)) });
  });
  api.get("/workers", async (_req, res) => {
    const { workers, unreachableNodes } = await deps.ops.workers();
    res.json({ now: new Date().toISOString(), workers, unreachable_nodes: unreachableNodes });
  });
  // Every checkpoint of the thread (all branches) as a tree, of any tenant (`tenant_id`, or the only one with the id).
  api.get("/threads/:threadId/tree", async (req, res) => {
    const { threadId } = parse(AdminThreadParams, req.params);
    const tree = await deps.ops.threadTree(threadId, parse(AdminThreadQuery, req.query).tenant_id);
    if (!tree) throw new NotFoundError("THREAD_NOT_FOUND", `Thread ${threadId} not found`);
    res.json(tree);
  });
  // Any run of any tenant, or 404.
  const runOf = async (params: unknown): Promise<RunRecord> => {
    const { runId } = parse(AdminRunParams, params);
    const run = await deps.ops.get(runId);
    if (!run) throw new NotFoundError("RUN_NOT_FOUND", `Run ${runId} not found`);
    return run;
  };
  api.get("/runs/:runId", async (req, res) => {
    const run = await runOf(req.params);
    res.json({ ...runView(run), tenant_id: run.tenant_id, graph_id: run.graph_id });
  });
  // The run's journal as SSE (from the start, or after Last-Event-ID on a reconnect), until its terminal event.
  api.get("/runs/:runId/stream", async (req, res) => {
    const run = await runOf(req.params);
    // Checked before the headers go out: a bad or out-of-range id is a 400, not a 200 with an error event.
    const lastEventId = await deps.runs.resumePoint(run, req.get("last-event-id"));
    return pipeSse(req, res, (signal) => deps.runs.subscribe(run, lastEventId, signal), { ...deps.sse, events: STREAM_EVENTS });
  });
  api.post("/runs/:runId/cancel", async (req, res) => {
    if (req.get(DASHBOARD_HEADER) !== "1") {
      throw new AppError("DASHBOARD_HEADER_REQUIRED", `Send ${DASHBOARD_HEADER}: 1 (the dashboard page does)`, { status: 403 });
    }
    const { wait, action } = parse(CancelQuery, req.query);
    const run = await runOf(req.params);
    const result = await deps.cancels.cancelRun(run, { wait, action });
    res.status(result.outcome === "requested" ? 202 : 200).json(cancelView(result));
  });

  return { "/admin/dashboard": page, "/admin/api": api };
}

/** `?status=&limit=` of the run lists: a bad value is a 422, not silently the default. */
function listQuery(query: unknown): { status?: TerminalRunStatus; limit: number } {
  const { status, limit } = parse(DashboardListQuery, query);
  return { status: status as TerminalRunStatus | undefined, limit };
}
