import { Router } from "express";
import { AssistantParams, AssistantSearchBody } from "@runline/core";
import type { GraphEntry, GraphRegistry } from "@runline/engine";
import { parse } from "../http/parse";

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
    res.json(assistantView(registry.resolveAssistant(parse(AssistantParams, req.params).assistantId)));
  });
  // The drawable graph (nodes and edges), as LangGraph Studio and the SDK's `assistants.getGraph` read it.
  router.get("/assistants/:assistantId/graph", async (req, res) => {
    const entry = registry.resolveAssistant(parse(AssistantParams, req.params).assistantId);
    const graph = (await registry.get(entry.graphId)) as unknown as { getGraphAsync(): Promise<{ toJSON(): unknown }> };
    res.json((await graph.getGraphAsync()).toJSON());
  });

  // JSON schemas of the graph's state. Graphs built on LangGraph annotations carry no value types Runline could
  // export, so the schemas list the state keys (what forms and clients key on) and leave their values open.
  router.get("/assistants/:assistantId/schemas", async (req, res) => {
    const entry = registry.resolveAssistant(parse(AssistantParams, req.params).assistantId);
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
    const body = parse(AssistantSearchBody, req.body);
    const all = registry.entries().map(assistantView).filter((a) => matchesSearch(a, body));
    const page = all.slice(body.offset, body.offset + body.limit);
    res.set("X-Pagination-Total", String(all.length));
    if (body.offset + page.length < all.length) res.set("X-Pagination-Next", String(body.offset + page.length));
    res.json(page);
  });
  return router;
}

/** The LangGraph server's assistant filters: graph id and name equality, metadata containment (top-level keys). */
function matchesSearch(assistant: ReturnType<typeof assistantView>, body: AssistantSearchBody): boolean {
  if (body.graph_id && assistant.graph_id !== body.graph_id) return false;
  if (body.name && assistant.name !== body.name) return false;
  const metadata = assistant.metadata as Record<string, unknown>;
  return Object.entries(body.metadata ?? {}).every(([key, value]) => JSON.stringify(metadata[key]) === JSON.stringify(value));
}
