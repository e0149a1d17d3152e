import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { NotFoundError, assistantIdForGraph, isUuid } from "@runline/core";

/**
 * The slice of a compiled LangGraph graph Runline uses. Graph modules may bring their own copy of
 * `@langchain/langgraph`, so graphs are recognised by shape, never with `instanceof`.
 */
export interface RunnableGraph {
  stream(input: unknown, options?: Record<string, unknown>): Promise<AsyncIterable<unknown>>;
  getState(config: Record<string, unknown>, options?: Record<string, unknown>): Promise<any>;
  getStateHistory(config: Record<string, unknown>, options?: Record<string, unknown>): AsyncIterable<any>;
  updateState(config: Record<string, unknown>, values: unknown, asNode?: string): Promise<any>;
}

/** A graph the service exposes, with its system assistant. */
export interface GraphEntry {
  graphId: string;
  assistantId: string;
  modulePath: string;
  exportName: string;
}

/** `{"graphs": {"story": "./graphs/story.ts:graph"}}`, the LangGraph CLI convention. */
export function readGraphsConfig(configPath: string): GraphEntry[] {
  const absolute = path.resolve(configPath);
  let parsed: { graphs?: Record<string, string> };
  try {
    parsed = JSON.parse(readFileSync(absolute, "utf8"));
  } catch (err) {
    throw new Error(`Cannot read graphs config ${absolute}: ${(err as Error).message}`);
  }
  if (!parsed.graphs || typeof parsed.graphs !== "object") throw new Error(`${absolute} has no "graphs" object`);
  return Object.entries(parsed.graphs).map(([graphId, spec]) => {
    const [file, exportName = "graph"] = String(spec).split(":");
    return { graphId, assistantId: assistantIdForGraph(graphId), modulePath: path.resolve(path.dirname(absolute), file), exportName };
  });
}

function isCompiled(value: any): boolean {
  return value && typeof value.stream === "function" && typeof value.getState === "function";
}

function isBuilder(value: any): boolean {
  return value && typeof value.compile === "function" && typeof value.addNode === "function";
}

/** Turns whatever the module exported (builder, compiled graph, or a factory of either) into a graph using our saver. */
async function compileWith(exported: unknown, checkpointer: BaseCheckpointSaver, where: string): Promise<RunnableGraph> {
  let value: any = exported;
  if (typeof value === "function" && !isBuilder(value) && !isCompiled(value)) value = await value();
  if (isBuilder(value)) return value.compile({ checkpointer });
  if (isCompiled(value)) {
    // Recompile from the builder so several savers (one per process or test) never share one graph object.
    if (isBuilder(value.builder)) {
      return value.builder.compile({
        checkpointer,
        interruptBefore: value.interruptBefore,
        interruptAfter: value.interruptAfter,
        name: value.name,
      });
    }
    value.checkpointer = checkpointer;
    return value;
  }
  throw new Error(`${where} is not a LangGraph graph (expected a StateGraph, a compiled graph, or a function returning one)`);
}

/** Loads graph modules lazily and compiles each once with Runline's checkpointer. */
export class GraphRegistry {
  private readonly byId = new Map<string, GraphEntry>();
  private readonly byAssistant = new Map<string, GraphEntry>();
  private readonly compiled = new Map<string, Promise<RunnableGraph>>();

  constructor(entries: GraphEntry[], private readonly checkpointer: BaseCheckpointSaver) {
    for (const entry of entries) {
      this.byId.set(entry.graphId, entry);
      this.byAssistant.set(entry.assistantId, entry);
    }
  }

  entries(): GraphEntry[] {
    return [...this.byId.values()];
  }

  /** Resolves an assistant id or a graph id (clients routinely pass the graph name). */
  resolveAssistant(assistantIdOrGraphId: string): GraphEntry {
    const entry = this.byId.get(assistantIdOrGraphId) ?? (isUuid(assistantIdOrGraphId) ? this.byAssistant.get(assistantIdOrGraphId) : undefined);
    if (!entry) throw new NotFoundError("ASSISTANT_NOT_FOUND", `Assistant "${assistantIdOrGraphId}" not found`);
    return entry;
  }

  async get(graphId: string): Promise<RunnableGraph> {
    const entry = this.byId.get(graphId);
    if (!entry) throw new NotFoundError("ASSISTANT_NOT_FOUND", `Graph "${graphId}" not found`);
    let graph = this.compiled.get(graphId);
    if (!graph) {
      graph = import(pathToFileURL(entry.modulePath).href).then((mod) =>
        compileWith(mod[entry.exportName] ?? mod.default?.[entry.exportName], this.checkpointer, `${entry.modulePath}:${entry.exportName}`),
      );
      graph.catch(() => this.compiled.delete(graphId));
      this.compiled.set(graphId, graph);
    }
    return graph;
  }
}
