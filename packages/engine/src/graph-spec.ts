import { readFileSync } from "node:fs";
import path from "node:path";
import { assistantIdForGraph } from "@runline/core";

/** A graph the service exposes, with its system assistant. */
export interface GraphEntry {
  graphId: string;
  assistantId: string;
  modulePath: string;
  exportName: string;
  /** The spec as written in the config file (`./src/agent.ts:graph`), for error messages. */
  spec: string;
  /** `description` of the object form, shown nowhere yet but kept so it is not silently lost. */
  description?: string;
}

/**
 * One `graphs` value of a `langgraph.json`/`runline.json`: `"./src/agent.ts:graph"`, or the documented object form
 * `{"path": "./src/agent.ts:graph", "description": "..."}`. The export defaults to `default` when the spec has no
 * `:export`, as the LangGraph server does; a spec whose file part is empty is refused.
 */
export function parseGraphSpec(graphId: string, value: unknown, baseDir: string, where: string): GraphEntry {
  const objectForm = value !== null && typeof value === "object" && !Array.isArray(value);
  const spec = objectForm ? (value as { path?: unknown }).path : value;
  if (typeof spec !== "string" || !spec.trim()) {
    throw new Error(`${where}: graphs.${graphId} must be "./file.ts:export" or {"path": "./file.ts:export"}`);
  }
  // Split on the last colon: a Windows path (C:\...) holds one too.
  const colon = spec.lastIndexOf(":");
  const hasExport = colon > 1 || (colon === 1 && !/^[a-z]:[\\/]/i.test(spec));
  const file = hasExport ? spec.slice(0, colon) : spec;
  const exportName = hasExport ? spec.slice(colon + 1) : "default";
  if (!file || !exportName) throw new Error(`${where}: graphs.${graphId} = "${spec}" needs a file and an export ("./file.ts:graph")`);
  const description = objectForm ? (value as { description?: unknown }).description : undefined;
  return {
    graphId,
    assistantId: assistantIdForGraph(graphId),
    modulePath: path.resolve(baseDir, file),
    exportName,
    spec,
    ...(typeof description === "string" ? { description } : {}),
  };
}

/** The `graphs` of a config file, the LangGraph CLI convention: `{"graphs": {"story": "./graphs/story.ts:graph"}}`. */
export function readGraphsConfig(configPath: string): GraphEntry[] {
  const absolute = path.resolve(configPath);
  let parsed: { graphs?: Record<string, unknown> };
  try {
    parsed = JSON.parse(readFileSync(absolute, "utf8"));
  } catch (err) {
    throw new Error(`Cannot read graphs config ${absolute}: ${(err as Error).message}`);
  }
  if (!parsed.graphs || typeof parsed.graphs !== "object" || Array.isArray(parsed.graphs)) {
    throw new Error(`${absolute} has no "graphs" object`);
  }
  const entries = Object.entries(parsed.graphs).map(([graphId, value]) => parseGraphSpec(graphId, value, path.dirname(absolute), absolute));
  if (!entries.length) throw new Error(`${absolute}: "graphs" is empty`);
  return entries;
}
