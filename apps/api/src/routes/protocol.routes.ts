import { Router } from "express";
import { StreamEventsBody, ThreadParams } from "@runline/core";
import { tenantOf } from "../http/auth";
import { parse } from "../http/parse";
import { pipeSse, type SseTiming } from "../http/sse";
import { CommandsService } from "../protocol/commands.service";
import { threadEvents, type ThreadEventsOptions } from "../protocol/thread-events";
import { V2_METHODS } from "../protocol/v2-event";
import type { RunsService } from "../services/runs.service";
import type { ThreadsService } from "../services/threads.service";

const V2_EVENTS = new Set<string>(V2_METHODS);

/**
 * LangGraph protocol v2 (`@langchain/react` 1.x, `client.threads.stream`), at the paths the SDK uses. Runs go
 * through the classic RunsService; events are the classic journal, translated (apps/api/src/protocol).
 * WebSocket (`streamProtocol: "v2-websocket"`) is not served: an upgrade request gets the 404 of any unknown route.
 */
export function protocolRoutes(runs: RunsService, threads: ThreadsService, sse: SseTiming, options: ThreadEventsOptions = {}): Router {
  const router = Router();
  const commands = new CommandsService(runs, threads);

  // Always 200 with a success or error envelope, as the official server answers; the SDK throws on other statuses.
  router.post("/threads/:threadId/commands", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    res.json(await commands.handle(tenantOf(res), threadId, req.body, (err) => res.locals.logError?.(err)));
  });

  router.post("/threads/:threadId/stream/events", async (req, res) => {
    const { threadId } = parse(ThreadParams, req.params);
    const body = parse(StreamEventsBody, req.body);
    // No 404 for a thread that does not exist yet: the 1.x client mints the id and may subscribe before its
    // first run.start creates it. Only the tenant's own runs are streamed, so another tenant's thread (which
    // looks the same as a missing one) stays silent.
    await pipeSse(req, res, (signal) => threadEvents(runs, tenantOf(res), threadId, body, signal, options), { ...sse, events: V2_EVENTS });
  });

  return router;
}
