import type { Callbacks } from "@langchain/core/callbacks/manager";
import { Command } from "@langchain/langgraph";
import { ON_DEMAND_STREAM_MODES, publicThreadId, withPublicThreadId, type RunRecord } from "@runline/core";
import type { RunnableGraph } from "./graph-registry";
import type { PartialCollector } from "./partial-collector";
import { messagesEventData, toWire } from "./wire-format";

/**
 * Where a run's events go (the journal, in production), in call order. Nothing waits on each event: the caller
 * flushes the sink after {@link executeRun} returns (the attempt journal reports a failed or refused one there).
 */
export interface RunEventSink {
  push(event: string, data: unknown): void;
}

/** Stream modes the worker always runs with: the partial output needs `messages`; subscribers pick from the rest. */
export const WORKER_STREAM_MODES = ["values", "messages", "updates", "custom"] as const;

const ECHOES_CONFIG = new Set<string>(ON_DEMAND_STREAM_MODES);

export interface ExecuteRunOptions {
  graph: RunnableGraph;
  run: RunRecord;
  sink: RunEventSink;
  signal: AbortSignal;
  collector: PartialCollector;
  /** Extra runtime context for nodes (Runline passes the chat model factory here). */
  context: Record<string, unknown>;
  /** Callbacks for the root run (cancel uses them to learn when LangGraph's writes have settled). */
  callbacks?: Callbacks;
}

export interface ExecuteRunResult {
  /** The graph stopped at a human-in-the-loop interrupt. */
  interrupted: boolean;
}

/**
 * `configurable` minus the keys LangGraph reserves (`__pregel_*`, any `__` prefix): the API refuses them, and
 * a run queued before it did must not smuggle them into Pregel either.
 */
function userConfigurable(configurable: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(configurable).filter(([key]) => !key.startsWith("__")));
}

/**
 * The LangGraph config for a run: the thread, an optional fork point, and the run's own settings. Only the
 * `config` keys LangGraph documents for runs are carried over (in LangGraph JS's spelling); anything else a
 * stored run may hold (`debug`, which makes LangGraph print the whole state, `callbacks`…) is dropped.
 */
export function buildRunConfig(run: RunRecord): Record<string, unknown> {
  const kwargs = run.kwargs;
  const { configurable: given = {}, tags, recursion_limit, metadata, run_name, max_concurrency } = kwargs.config ?? {};
  const configurable = userConfigurable(given);
  const fork = kwargs.checkpoint ?? (configurable.checkpoint_id ? { checkpoint_id: String(configurable.checkpoint_id) } : null);
  return {
    tags,
    recursionLimit: recursion_limit,
    ...(typeof run_name === "string" ? { runName: run_name } : {}),
    ...(typeof max_concurrency === "number" ? { maxConcurrency: max_concurrency } : {}),
    configurable: {
      ...configurable,
      thread_id: run.thread_id,
      checkpoint_ns: fork?.checkpoint_ns ?? "",
      ...(fork ? { checkpoint_id: fork.checkpoint_id } : {}),
      run_id: run.run_id,
      graph_id: run.graph_id,
      assistant_id: run.assistant_id,
    },
    // `configurable.thread_id` is the storage key (the checkpointer's thread); the metadata LangGraph puts on
    // every streamed message carries the id the client knows (LangGraph copies `configurable` keys only where
    // the metadata has none).
    metadata: { ...(isPlainObject(metadata) ? metadata : {}), ...run.metadata, run_id: run.run_id, graph_id: run.graph_id, assistant_id: run.assistant_id, thread_id: publicThreadId(run.thread_id) },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === "object" && !Array.isArray(value);
}

function buildInput(run: RunRecord): unknown {
  const command = run.kwargs.command;
  if (command && Object.keys(command).length) return new Command(command as ConstructorParameters<typeof Command>[0]);
  return run.kwargs.input ?? null;
}

/** Runs the graph to its end, pushing every event to the sink in order. Throws the abort reason on cancel. */
export async function executeRun(options: ExecuteRunOptions): Promise<ExecuteRunResult> {
  const { graph, run, sink, signal, collector } = options;
  const config = buildRunConfig(run);
  const stream = await graph.stream(buildInput(run), {
    ...config,
    context: { ...(run.kwargs.context ?? {}), ...options.context },
    streamMode: [...WORKER_STREAM_MODES, ...ON_DEMAND_STREAM_MODES.filter((mode) => run.kwargs.stream_mode.includes(mode))],
    subgraphs: run.kwargs.stream_subgraphs,
    interruptBefore: run.kwargs.interrupt_before ?? undefined,
    interruptAfter: run.kwargs.interrupt_after ?? undefined,
    signal,
    callbacks: options.callbacks,
    runId: run.run_id,
  });
  let interrupted = false;
  for await (const item of stream as AsyncIterable<unknown[]>) {
    // With subgraphs each item is [namespace, mode, payload]; otherwise [mode, payload].
    const [namespace, mode, payload] = item.length === 3 ? (item as [string[], string, any]) : ([[], ...item] as unknown as [string[], string, any]);
    const event = namespace.length ? `${mode === "messages" ? "messages" : mode}|${namespace.join("|")}` : mode;
    switch (mode) {
      case "messages": {
        const [chunk, metadata] = payload;
        // Subgraph tokens too: subscribers of a `stream_subgraphs` run saw them, so a cancel keeps them.
        collector.add(chunk, metadata, namespace);
        sink.push(event, messagesEventData(chunk, metadata));
        break;
      }
      case "updates": {
        if (payload && typeof payload === "object") {
          if ("__interrupt__" in payload && !namespace.length) interrupted = true;
          collector.addUpdate(payload, namespace);
        }
        sink.push(event, toWire(payload));
        break;
      }
      default:
        // The on-demand modes echo the thread's LangGraph config (checkpoint configs, task configs): public id.
        sink.push(event, ECHOES_CONFIG.has(mode) ? withPublicThreadId(toWire(payload), run.thread_id) : toWire(payload));
    }
  }
  return { interrupted };
}
