import { Router, type Request, type Response } from "express";
import { CancelManyBody, CancelManyQuery, CancelQuery, JoinStreamQuery, ListRunsQuery, RunCreateBody, RunParams, ThreadParams, eventsForStreamModes, publicThreadId, type RunRecord } from "@runline/core";
import { tenantOf } from "../http/auth";
import type { StreamQuota, StreamSlot } from "../quotas/stream-slots";
import { parse } from "../http/parse";
import { pipeSse, type SseTiming } from "../http/sse";
import { respondWhenDone } from "../http/wait-response";
import type { ThreadsService } from "../services/threads.service";
import type { CancelService } from "../services/cancel.service";
import { withLegacyMessages } from "../services/legacy-messages";
import type { RunsService } from "../services/runs.service";
import { cancelView, runSummaryView, runView } from "../services/views";

function runPath(run: RunRecord): string {
  return `/threads/${publicThreadId(run.thread_id)}/runs/${run.run_id}`;
}

export function runsRoutes(runs: RunsService, cancels: CancelService, threads: ThreadsService, sse: SseTiming, streamQuota: StreamQuota): Router {
  const router = Router();

  // A client that goes away from a run created with on_disconnect=cancel (what useStream's stop() relies on)
  // cancels it exactly like POST …/cancel?action=interrupt, partial output saved.
  const cancelOnDisconnect = (run: RunRecord, res: Response) => () => {
    void cancels.cancelRun(run, { wait: false, action: "interrupt" }).catch((err) => res.locals.logError?.(err));
  };

  /** `created`: this request created the run, holding `slot` for it (see {@link RunsService.subscribe}). */
  const stream = async (req: Request, res: Response, run: RunRecord, lastEventId: string | undefined, modes: string[], cancelOnGone: boolean, created?: { slot: StreamSlot }) => {
    const held = created?.slot;
    // Validated before the headers go out: a malformed or out-of-range id is a 400, not a 200 with an error event.
    await runs.resumePoint(run, lastEventId).catch(async (err) => {
      await held?.release();
      throw err;
    });
    // After validation, so a refused request never holds a slot; a 429 goes out before the SSE headers.
    const slot = held ?? (await streamQuota.acquire(tenantOf(res)));
    const subscribe = modes.includes("messages")
      ? (signal: AbortSignal) => withLegacyMessages(runs.subscribe(run, undefined, signal, { created: !!created }), lastEventId)
      : (signal: AbortSignal) => runs.subscribe(run, lastEventId, signal, { created: !!created });
    try {
      await pipeSse(req, res, subscribe, {
        ...sse,
        events: eventsForStreamModes(modes),
        headers: { "Content-Location": runPath(run), Location: `${runPath(run)}/stream` },
        onClientGone: cancelOnGone ? cancelOnDisconnect(run, res) : undefined,
      });
    } finally {
      await slot.release();
    }
  };

  /**
   * Creates a run and streams it. The stream slot is taken before the run exists, so a tenant at its stream
   * limit gets a 429 and no run it cannot watch; a create that fails gives the slot back before answering.
   */
  const createAndStream = async (req: Request, res: Response, create: () => Promise<RunRecord>) => {
    const slot = await streamQuota.acquire(tenantOf(res));
    let run: RunRecord;
    try {
      run = await create();
    } catch (err) {
      await slot.release();
      throw err;
    }
    await stream(req, res, run, undefined, run.kwargs.stream_mode, run.kwargs.on_disconnect === "cancel", { slot });
  };

  router.post("/threads/:threadId/runs", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    const run = await runs.create(tenantOf(res), threadId, parse(RunCreateBody, req.body));
    res.set("Content-Location", runPath(run)).json(runView(run));
  });

  router.post("/threads/:threadId/runs/stream", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    const body = parse(RunCreateBody, req.body);
    await createAndStream(req, res, () => runs.create(tenantOf(res), threadId, body));
  });

  // Stateless runs: each gets a thread of its own, deleted when it ends unless on_completion=keep.
  router.post("/runs", async (req, res) => {
    const run = await runs.createStateless(tenantOf(res), parse(RunCreateBody, req.body));
    res.set("Content-Location", runPath(run)).json(runView(run));
  });

  router.post("/runs/stream", async (req, res) => {
    const body = parse(RunCreateBody, req.body);
    await createAndStream(req, res, () => runs.createStateless(tenantOf(res), body));
  });

  router.post("/runs/wait", async (req, res) => {
    const run = await runs.createStateless(tenantOf(res), parse(RunCreateBody, req.body));
    res.set("Content-Location", runPath(run));
    const cancelOnGone = run.kwargs.on_disconnect === "cancel" ? cancelOnDisconnect(run, res) : undefined;
    await respondWhenDone(req, res, 1000, async (signal) => (await runs.result(run, signal, { created: true })) ?? "{}", cancelOnGone);
  });

  router.post("/runs/cancel", async (req, res) => {
    const body = parse(CancelManyBody, req.body);
    const { action } = parse(CancelManyQuery, req.query);
    await cancels.cancelMany(tenantOf(res), { threadId: body.thread_id, runIds: body.run_ids, status: body.status }, action);
    res.status(204).end();
  });

  router.post("/threads/:threadId/runs/wait", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    const run = await runs.create(tenantOf(res), threadId, parse(RunCreateBody, req.body));
    res.set("Content-Location", runPath(run));
    const cancelOnGone = run.kwargs.on_disconnect === "cancel" ? cancelOnDisconnect(run, res) : undefined;
    await respondWhenDone(req, res, 1000, async (signal) => (await runs.result(run, signal, { created: true })) ?? "{}", cancelOnGone);
  });

  router.get("/threads/:threadId/runs/:runId/join", async (req, res) => {
    const { threadId, runId } = parse(RunParams, req.params);
    const query = parse(JoinStreamQuery, req.query);
    const tenantId = tenantOf(res);
    const run = await runs.get(tenantId, threadId, runId);
    const cancelOnGone = query.cancel_on_disconnect ? cancelOnDisconnect(run, res) : undefined;
    await respondWhenDone(
      req,
      res,
      1000,
      // A run whose journal expired (or that never produced values) answers with the thread's current values.
      async (signal) => (await runs.result(run, signal)) ?? (await threads.getState(tenantId, threadId)).values,
      cancelOnGone,
    );
  });

  router.delete("/threads/:threadId/runs/:runId", async (req, res) => {
    const { threadId, runId } = parse(RunParams, req.params);
    await runs.delete(tenantOf(res), threadId, runId);
    res.status(204).end();
  });

  router.get("/threads/:threadId/runs", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    const query = parse(ListRunsQuery, req.query);
    const list = await runs.list(tenantOf(res), threadId, query);
    res.json(list.map(query.include_input ? runView : runSummaryView));
  });

  router.get("/threads/:threadId/runs/:runId", async (req, res) => {
    const { threadId, runId } = parse(RunParams, req.params);
    res.json(runView(await runs.get(tenantOf(res), threadId, runId)));
  });

  router.get("/threads/:threadId/runs/:runId/stream", async (req, res) => {
    const { threadId, runId } = parse(RunParams, req.params);
    const query = parse(JoinStreamQuery, req.query);
    const run = await runs.get(tenantOf(res), threadId, runId);
    const modes = query.stream_mode ?? run.kwargs.stream_mode;
    await stream(req, res, run, req.get("last-event-id") ?? undefined, modes, query.cancel_on_disconnect === true);
  });

  router.post("/threads/:threadId/runs/:runId/cancel", async (req, res) => {
    const { threadId, runId } = parse(RunParams, req.params);
    const result = await cancels.cancel(tenantOf(res), threadId, runId, parse(CancelQuery, req.query));
    res.status(result.outcome === "requested" ? 202 : 200).json(cancelView(result));
  });

  return router;
}
