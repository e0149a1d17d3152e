import { Router } from "express";
import {
  CheckpointParams,
  HistoryBody,
  HistoryQuery,
  StateAtCheckpointBody,
  StateUpdateBody,
  ThreadCountBody,
  ThreadCreateBody,
  ThreadParams,
  ThreadPatchBody,
  ThreadSearchBody,
} from "@runline/core";
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

  router.post("/threads/search", async (req, res) => {
    const body = parse(ThreadSearchBody, req.body);
    const { threads: page, total } = await threads.search(tenantOf(res), body);
    res.set("X-Pagination-Total", String(total));
    if (body.offset + page.length < total) res.set("X-Pagination-Next", String(body.offset + page.length));
    res.json(page.map((t) => threadView(t)));
  });

  router.post("/threads/count", async (req, res) => {
    res.json(await threads.count(tenantOf(res), parse(ThreadCountBody, req.body)));
  });

  router.get("/threads/:threadId", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    // State first: it waits for a stop in progress, so the thread read after it has the matching status.
    const state = await threads.getState(tenantOf(res), threadId);
    const thread = await threads.get(tenantOf(res), threadId);
    res.json(threadView(thread, state.values));
  });

  router.patch("/threads/:threadId", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    res.json(threadView(await threads.patch(tenantOf(res), threadId, parse(ThreadPatchBody, req.body).metadata)));
  });

  router.delete("/threads/:threadId", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    await threads.delete(tenantOf(res), threadId);
    res.status(204).end();
  });

  router.get("/threads/:threadId/state", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    res.json(await threads.getState(tenantOf(res), threadId));
  });

  router.post("/threads/:threadId/state", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    res.json(await threads.updateState(tenantOf(res), threadId, parse(StateUpdateBody, req.body)));
  });

  router.post("/threads/:threadId/state/checkpoint", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    res.json(await threads.getState(tenantOf(res), threadId, parse(StateAtCheckpointBody, req.body).checkpoint));
  });

  router.get("/threads/:threadId/state/:checkpointId", async (req, res) => {
    const { threadId, checkpointId } = parse(CheckpointParams, req.params);
    res.json(await threads.getState(tenantOf(res), threadId, { checkpoint_id: checkpointId }));
  });

  router.post("/threads/:threadId/history", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    res.json(await threads.history(tenantOf(res), threadId, parse(HistoryBody, req.body)));
  });

  router.get("/threads/:threadId/history", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    const { limit, before } = parse(HistoryQuery, req.query);
    res.json(await threads.history(tenantOf(res), threadId, { limit, before }));
  });

  return router;
}
