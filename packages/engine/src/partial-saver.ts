import { copyCheckpoint, emptyCheckpoint, uuid6, type BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import type { CancelAction, RunPartial, RunRecord } from "@runline/core";
import type { RunnableGraph } from "./graph-registry";
import type { PartialCollector } from "./partial-collector";
import { buildPartialMessage, type PartialMarker } from "./partial-message";
import { cancelledToolResults } from "./unanswered-tool-calls";

export interface SavePartialOptions {
  graph: RunnableGraph;
  checkpointer: BaseCheckpointSaver;
  run: RunRecord;
  collector: PartialCollector;
  action: CancelAction;
  reason: PartialMarker["reason"];
  /** The thread head when the run started (null for a thread with no checkpoint yet). */
  startCheckpointId: string | null;
}

/** The partial of a run stopped before the model streamed anything: nothing saved, and it says so. */
export function noPartial(action: CancelAction): RunPartial {
  return { message_id: null, token_count: 0, checkpoint_id: null, parent_checkpoint_id: null, action, head_checkpoint_id: null };
}

const rootConfig = (threadId: string, checkpointId?: string) => ({
  configurable: { thread_id: threadId, checkpoint_ns: "", ...(checkpointId ? { checkpoint_id: checkpointId } : {}) },
});

/**
 * Saves what a stopped run streamed but LangGraph never checkpointed (the node was cut off mid-answer). Call only
 * after LangGraph's own writes settled. `interrupt`: the partial becomes the thread head. `rollback`: the partial
 * is still written (a branch you can fork from), then the head goes back to the state the run started from.
 */
export interface SavedPartial {
  partial: RunPartial;
  /** The thread's values after the save, for the run's final `values` event (null: read the head instead). */
  values: Record<string, unknown> | null;
}

export async function savePartialOutput(options: SavePartialOptions): Promise<SavedPartial> {
  const { graph, run, collector, action } = options;
  const threadId = run.thread_id;
  const nothing = noPartial(action);
  const head = await graph.getState(rootConfig(threadId));
  // One run per thread: any checkpoint newer than the head at start was written by this run.
  const headId: string | undefined = head?.config?.configurable?.checkpoint_id;
  const headIsOurs = Boolean(headId) && headId !== options.startCheckpointId;
  let saved = nothing;
  let values: Record<string, unknown> | null = head?.values ?? {};
  if (headIsOurs) {
    const next: string[] = head.next ?? [];
    // Only nodes that have not committed: a node whose output is already checkpointed has nothing partial.
    const pending = collector.inFlight().filter((m) => m.chunks.length > 0 && next.includes(m.node));
    const parentId: string = head.config.configurable.checkpoint_id;
    for (const node of new Set(pending.map((m) => m.node))) {
      const messages = pending.filter((m) => m.node === node);
      const partials = messages.map((m) => buildPartialMessage(m, { run_id: run.run_id, action, reason: options.reason }));
      // Target the latest checkpoint (no id): that folds in the writes of sibling tasks that did finish.
      const written = await graph.updateState(rootConfig(threadId), { messages: partials }, node);
      // The partials have ids no committed message has, so the messages reducer appended them.
      values = { ...values, messages: [...((values?.messages as unknown[]) ?? []), ...partials] };
      const last = messages[messages.length - 1];
      saved = {
        message_id: last.id,
        token_count: saved.token_count + messages.reduce((n, m) => n + m.chunks.length, 0),
        checkpoint_id: written.configurable.checkpoint_id,
        parent_checkpoint_id: parentId,
        action,
        head_checkpoint_id: written.configurable.checkpoint_id,
      };
    }
  }
  if (headIsOurs) {
    // A stop while a tool ran: answer its committed calls, or the next provider request is rejected.
    const results = cancelledToolResults((values as Record<string, unknown> | null)?.messages, run.run_id);
    if (results.length) {
      const after = await graph.getState(rootConfig(threadId));
      const asNode: string | undefined = (after?.next ?? [])[0];
      const written = await graph.updateState(rootConfig(threadId), { messages: results }, asNode);
      values = { ...values, messages: [...((values?.messages as unknown[]) ?? []), ...results] };
      const id = written.configurable.checkpoint_id;
      saved = { ...saved, checkpoint_id: id, head_checkpoint_id: id, parent_checkpoint_id: saved.parent_checkpoint_id ?? head.config.configurable.checkpoint_id };
    }
  }
  if (action === "rollback" && headIsOurs) {
    saved = { ...saved, head_checkpoint_id: await restoreHead(options.checkpointer, run, options.startCheckpointId) };
    values = null;
  }
  return { partial: saved, values };
}

/**
 * Makes the thread head equal to the checkpoint the run started from, as a new sibling checkpoint (so nothing the
 * run wrote is deleted: it stays reachable through history). The copy shares the original's channel blobs.
 */
async function restoreHead(checkpointer: BaseCheckpointSaver, run: RunRecord, startId: string | null): Promise<string> {
  const base = startId ? await checkpointer.getTuple(rootConfig(run.thread_id, startId)) : undefined;
  const checkpoint = base ? copyCheckpoint(base.checkpoint) : emptyCheckpoint();
  checkpoint.id = uuid6(-1);
  checkpoint.ts = new Date().toISOString();
  const metadata = { source: "update", step: (base?.metadata?.step ?? -2) + 1, parents: {}, runline_restored_from: startId, runline_run_id: run.run_id };
  const written = await checkpointer.put(rootConfig(run.thread_id, startId ?? undefined), checkpoint, metadata as any, {});
  return written.configurable!.checkpoint_id as string;
}
