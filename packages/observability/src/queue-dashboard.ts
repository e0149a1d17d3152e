import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import type { RequestHandler } from "express";

/** Options of {@link createQueueDashboard}. */
export interface QueueDashboardOptions {
  /** Where the dashboard is mounted (its pages link to assets under it). @defaultValue "/admin/queues" */
  basePath?: string;
  /**
   * Allow the dashboard's job actions (retry, remove, clean, pause). Off by default: removing a run's job by hand
   * leaves its run `pending` or `running` with nothing to finish it, which blocks the thread.
   * @defaultValue false
   */
  allowActions?: boolean;
}

/** bull-board (`@bull-board/express`) for Runline's queues, as an Express handler to mount behind the admin key. */
export function createQueueDashboard(queues: Queue[], options: QueueDashboardOptions = {}): RequestHandler {
  const basePath = options.basePath ?? "/admin/queues";
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: !options.allowActions })),
    serverAdapter,
    options: { uiConfig: { boardTitle: "Runline queues" } },
  });
  return serverAdapter.getRouter() as RequestHandler;
}
