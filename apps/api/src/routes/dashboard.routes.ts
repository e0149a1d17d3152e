import { readFileSync } from "node:fs";
import path from "node:path";
import { Router, type RequestHandler } from "express";
import { CANCEL_ACTIONS, type CancelAction } from "@runline/core";
import { normaliseLastEventId } from "@runline/journal";
import { problem } from "../http/error-handler";
import { pipeSse, type SseTiming } from "../http/sse";
import type { CancelService } from "../services/cancel.service";
import { parseFinishedStatus, type OpsService } from "../services/ops.service";
import type { RunsService } from "../services/runs.service";
import { cancelView, runView } from "../services/views";

export interface DashboardDeps {
  ops: OpsService;
  runs: RunsService;
  cancels: CancelService;
  sse: SseTiming;
}

/** A cross-site form cannot set this header (Runline answers no CORS preflight), so a cancel needs the page itself. */
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
    res.json(await deps.ops.overview({ status: parseFinishedStatus(req.query.status), limit: limitOf(req.query.limit) }));
  });
  api.get("/queue", async (_req, res) => {
    res.json({ queue: await deps.ops.queue() });
  });
  api.get("/runs/active", async (_req, res) => {
    res.json({ runs: await deps.ops.active() });
  });
  api.get("/runs/recent", async (req, res) => {
    res.json({ runs: await deps.ops.recent({ status: parseFinishedStatus(req.query.status), limit: limitOf(req.query.limit) }) });
  });
  api.get("/workers", async (_req, res) => {
    res.json({ now: new Date().toISOString(), workers: await deps.ops.workers() });
  });
  // Every checkpoint of the thread (all branches) as a tree, whatever its tenant.
  api.get("/threads/:threadId/tree", async (req, res) => {
    const tree = await deps.ops.threadTree(req.params.threadId);
    if (!tree) return problem(res, 404, "THREAD_NOT_FOUND", `Thread ${req.params.threadId} not found`);
    res.json(tree);
  });
  api.get("/runs/:runId", async (req, res) => {
    const run = await deps.ops.get(req.params.runId);
    if (!run) return problem(res, 404, "RUN_NOT_FOUND", `Run ${req.params.runId} not found`);
    res.json({ ...runView(run), tenant_id: run.tenant_id, graph_id: run.graph_id });
  });
  // The run's journal as SSE (from the start, or after Last-Event-ID on a reconnect), until its terminal event.
  api.get("/runs/:runId/stream", async (req, res) => {
    const run = await deps.ops.get(req.params.runId);
    if (!run) return problem(res, 404, "RUN_NOT_FOUND", `Run ${req.params.runId} not found`);
    const lastEventId = normaliseLastEventId(req.get("last-event-id"));
    return pipeSse(req, res, (signal) => deps.runs.subscribe(run, lastEventId, signal), { ...deps.sse, events: STREAM_EVENTS });
  });
  api.post("/runs/:runId/cancel", async (req, res) => {
    if (req.get(DASHBOARD_HEADER) !== "1") {
      return problem(res, 403, "DASHBOARD_HEADER_REQUIRED", `Send ${DASHBOARD_HEADER}: 1 (the dashboard page does)`);
    }
    const action = String(req.query.action ?? "interrupt");
    if (!(CANCEL_ACTIONS as readonly string[]).includes(action)) {
      return problem(res, 422, "VALIDATION_FAILED", `action must be one of ${CANCEL_ACTIONS.join(", ")}`);
    }
    const wait = ["1", "true"].includes(String(req.query.wait ?? "0"));
    const run = await deps.ops.get(req.params.runId);
    if (!run) return problem(res, 404, "RUN_NOT_FOUND", `Run ${req.params.runId} not found`);
    const result = await deps.cancels.cancelRun(run, { wait, action: action as CancelAction });
    res.status(result.outcome === "requested" ? 202 : 200).json(cancelView(result));
  });

  return { "/admin/dashboard": page, "/admin/api": api };
}

function limitOf(value: unknown): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 500) : 50;
}
