import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { NotFoundError, isUuid } from "@runline/core";
import { GraphLoadError } from "./graph-load-error";
import type { GraphEntry } from "./graph-spec";

export { readGraphsConfig, parseGraphSpec, type GraphEntry } from "./graph-spec";
export { GraphLoadError } from "./graph-load-error";

/**
 * The slice of a compiled LangGraph graph Runline uses. Graph modules may bring their own copy of
 * `@langchain/langgraph`, so graphs are recognised by shape, never with `instanceof`.
 */
export interface RunnableGraph {
  stream(input: unknown, options?: Record<string, unknown>): Promise<AsyncIterable<unknown>>;
  getState(config: Record<string, unknown>, options?: Record<string, unknown>): Promise<any>;
  getStateHistory(config: Record<string, unknown>, options?: Record<string, unknown>): AsyncIterable<any>;
  updateState(config: Record<string, unknown>, values: unknown, asNode?: string): Promise<any>;
  /** Several nodes' updates as one superstep (how a cancel saves parallel branches' partials together). */
  bulkUpdateState(config: Record<string, unknown>, supersteps: { updates: { values: unknown; asNode?: string }[] }[]): Promise<any>;
}

function isCompiled(value: any): boolean {
  return value && typeof value.stream === "function" && typeof value.getState === "function";
}

function isBuilder(value: any): boolean {
  return value && typeof value.compile === "function" && typeof value.addNode === "function";
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `an object (${Object.keys(value as object).slice(0, 5).join(", ") || "no keys"})`;
  return `a ${typeof value}`;
}

const NOT_A_GRAPH = "not a compiled graph, a StateGraph, or a function returning one";

/**
 * Turns whatever the module exported (builder, compiled graph, `createAgent`'s wrapper, or a factory of any of
 * them) into a graph using our saver. A factory is called once, with an empty `configurable`: Runline compiles
 * each graph once per process, so per-run factories (LangGraph's `(config) => graph`) see no run config.
 */
async function compileWith(exported: unknown, checkpointer: BaseCheckpointSaver, entry: GraphEntry): Promise<RunnableGraph> {
  let value: any = exported;
  if (typeof value === "function" && !isBuilder(value) && !isCompiled(value)) {
    try {
      value = await value({ configurable: {} });
    } catch (err) {
      throw new GraphLoadError(entry, `export "${entry.exportName}" is a function that threw: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
    if (!isBuilder(value) && !isCompiled(value)) {
      throw new GraphLoadError(entry, `export "${entry.exportName}" is a function, but it returned ${describe(value)}, ${NOT_A_GRAPH}`);
    }
  }
  // langchain's createAgent returns a wrapper whose `.graph` is the compiled graph.
  if (!isCompiled(value) && !isBuilder(value) && isCompiled(value?.graph)) value = value.graph;
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
  throw new GraphLoadError(entry, `export "${entry.exportName}" is ${describe(value)}, ${NOT_A_GRAPH}`);
}

/** Imports the entry's module and picks its export, failing with the file and export named. */
async function importExport(entry: GraphEntry): Promise<unknown> {
  if (!existsSync(entry.modulePath)) throw new GraphLoadError(entry, `file ${entry.modulePath} does not exist`);
  let mod: Record<string, any>;
  try {
    mod = await import(pathToFileURL(entry.modulePath).href);
  } catch (err) {
    throw new GraphLoadError(entry, `importing ${entry.modulePath} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  // A CommonJS module (or one compiled to it) arrives with its exports under `default`.
  const value = entry.exportName in mod ? mod[entry.exportName] : mod.default?.[entry.exportName];
  if (value === undefined) {
    const names = [...new Set([...Object.keys(mod), ...Object.keys(mod.default ?? {})])].filter((n) => n !== "__esModule");
    throw new GraphLoadError(entry, `${entry.modulePath} has no export "${entry.exportName}" (it exports: ${names.join(", ") || "nothing"})`);
  }
  return value;
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
      graph = importExport(entry).then((exported) => compileWith(exported, this.checkpointer, entry));
      graph.catch(() => this.compiled.delete(graphId));
      this.compiled.set(graphId, graph);
    }
    return graph;
  }

  /**
   * Imports and compiles every graph now, so a wrong path, a missing export or an export that is not a graph
   * fails the start (with the file and export named) instead of the first run.
   */
  async loadAll(): Promise<void> {
    for (const entry of this.byId.values()) await this.get(entry.graphId);
  }
}
