import { Router, type Request, type Response } from "express";
import { JoinStreamQuery, ListRunsQuery, RunCreateBody, RunParams, ThreadParams, eventsForStreamModes, type RunRecord } from "@runline/core";
import { tenantOf } from "../http/auth";
import { parse } from "../http/parse";
import { normaliseLastEventId } from "@runline/journal";
import { pipeSse } from "../http/sse";
import type { RunsService } from "../services/runs.service";
import { runView } from "../services/views";

function runPath(run: RunRecord): string {
  return `/threads/${run.thread_id}/runs/${run.run_id}`;
}

/** `stream_mode` on a join arrives as a JSON array string (what the SDK sends) or a plain mode name. */
function parseStreamModeParam(value: string | undefined): string[] | undefined {
  if (!value) return undefined;
  if (value.startsWith("[")) return JSON.parse(value) as string[];
  return value.split(",");
}

export function runsRoutes(runs: RunsService, heartbeatMs: number): Router {
  const router = Router();

  const stream = (req: Request, res: Response, run: RunRecord, lastEventId: string | undefined, modes: string[]) => {
    // Validated before the headers go out, so a bad id is a 400 and not a broken stream.
    normaliseLastEventId(lastEventId);
    return pipeSse(req, res, (signal) => runs.subscribe(run, lastEventId, signal), {
      heartbeatMs,
      events: eventsForStreamModes(modes),
      headers: { "Content-Location": runPath(run), Location: `${runPath(run)}/stream` },
    });
  };

  router.post("/threads/:threadId/runs", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    const run = await runs.create(tenantOf(res), threadId, parse(RunCreateBody, req.body));
    res.set("Content-Location", runPath(run)).json(runView(run));
  });

  router.post("/threads/:threadId/runs/stream", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    const run = await runs.create(tenantOf(res), threadId, parse(RunCreateBody, req.body));
    await stream(req, res, run, undefined, run.kwargs.stream_mode);
  });

  router.get("/threads/:threadId/runs", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    const list = await runs.list(tenantOf(res), threadId, parse(ListRunsQuery, req.query));
    res.json(list.map(runView));
  });

  router.get("/threads/:threadId/runs/:runId", async (req, res) => {
    const { threadId, runId } = parse(RunParams, req.params);
    res.json(runView(await runs.get(tenantOf(res), threadId, runId)));
  });

  router.get("/threads/:threadId/runs/:runId/stream", async (req, res) => {
    const { threadId, runId } = parse(RunParams, req.params);
    const query = parse(JoinStreamQuery, req.query);
    const run = await runs.get(tenantOf(res), threadId, runId);
    const modes = parseStreamModeParam(query.stream_mode) ?? run.kwargs.stream_mode;
    await stream(req, res, run, req.get("last-event-id") ?? undefined, modes);
  });

  return router;
}
