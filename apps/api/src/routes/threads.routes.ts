import { Router } from "express";
import { HistoryBody, ThreadCreateBody, ThreadParams } from "@runline/core";
import { tenantOf } from "../http/auth";
import { parse } from "../http/parse";
import type { ThreadsService } from "../services/threads.service";
import { threadView } from "../services/views";

export function threadsRoutes(threads: ThreadsService): Router {
  const router = Router();

  router.post("/threads", async (req, res) => {
    const thread = await threads.create(tenantOf(res), parse(ThreadCreateBody, req.body));
    res.json(threadView(thread));
  });

  router.get("/threads/:threadId", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    const thread = await threads.get(tenantOf(res), threadId);
    const state = await threads.getState(tenantOf(res), threadId);
    res.json(threadView(thread, state.values));
  });

  router.get("/threads/:threadId/state", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    res.json(await threads.getState(tenantOf(res), threadId));
  });

  router.get("/threads/:threadId/state/:checkpointId", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    res.json(await threads.getState(tenantOf(res), threadId, String(req.params.checkpointId)));
  });

  router.post("/threads/:threadId/history", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    res.json(await threads.history(tenantOf(res), threadId, parse(HistoryBody, req.body)));
  });

  router.get("/threads/:threadId/history", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    const query = { limit: req.query.limit ? Number(req.query.limit) : undefined, before: req.query.before };
    res.json(await threads.history(tenantOf(res), threadId, parse(HistoryBody, query)));
  });

  return router;
}
