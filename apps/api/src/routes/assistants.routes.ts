import { Router } from "express";
import type { GraphEntry, GraphRegistry } from "@runline/engine";

const STARTED_AT = new Date().toISOString();

/** The system assistant the LangGraph server registers for each graph. */
export function assistantView(entry: GraphEntry) {
  return {
    assistant_id: entry.assistantId,
    graph_id: entry.graphId,
    config: {},
    context: {},
    metadata: { created_by: "system" },
    version: 1,
    name: entry.graphId,
    description: null,
    created_at: STARTED_AT,
    updated_at: STARTED_AT,
  };
}

export function assistantsRoutes(registry: GraphRegistry): Router {
  const router = Router();
  router.get("/assistants/:assistantId", (req, res) => {
    res.json(assistantView(registry.resolveAssistant(String(req.params.assistantId))));
  });
  // The drawable graph (nodes and edges), as LangGraph Studio and the SDK's `assistants.getGraph` read it.
  router.get("/assistants/:assistantId/graph", async (req, res) => {
    const entry = registry.resolveAssistant(String(req.params.assistantId));
    const graph = (await registry.get(entry.graphId)) as unknown as { getGraphAsync(): Promise<{ toJSON(): unknown }> };
    res.json((await graph.getGraphAsync()).toJSON());
  });

  // JSON schemas of the graph's state. Graphs built on LangGraph annotations carry no value types Runline could
  // export, so the schemas list the state keys (what forms and clients key on) and leave their values open.
  router.get("/assistants/:assistantId/schemas", async (req, res) => {
    const entry = registry.resolveAssistant(String(req.params.assistantId));
    const graph = (await registry.get(entry.graphId)) as unknown as { builder?: { channels?: Record<string, unknown> }; outputChannels?: unknown };
    const keys = Object.keys(graph.builder?.channels ?? {});
    const outputKeys = Array.isArray(graph.outputChannels) ? (graph.outputChannels as string[]) : keys;
    const objectOf = (names: string[]) => ({ type: "object", title: entry.graphId, properties: Object.fromEntries(names.map((k) => [k, {}])) });
    res.json({
      graph_id: entry.graphId,
      input_schema: objectOf(keys),
      output_schema: objectOf(outputKeys),
      state_schema: objectOf(keys),
      config_schema: { type: "object", properties: {} },
      context_schema: { type: "object", properties: {} },
    });
  });

  router.post("/assistants/search", (req, res) => {
    const { graph_id, limit = 10, offset = 0 } = (req.body ?? {}) as { graph_id?: string; limit?: number; offset?: number };
    const all = registry.entries().filter((e) => !graph_id || e.graphId === graph_id);
    res.set("X-Pagination-Total", String(all.length)).json(all.slice(offset, offset + limit).map(assistantView));
  });
  return router;
}
