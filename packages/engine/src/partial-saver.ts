import { coerceMessageLikeToMessage } from "@langchain/core/messages";
import { copyCheckpoint, emptyCheckpoint, uuid6, type BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import type { CancelAction, RunPartial, RunRecord } from "@runline/core";
import type { RunnableGraph } from "./graph-registry";
import type { PartialCollector, StreamedMessage } from "./partial-collector";
import { messagesKeyOf } from "./messages-key";
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
  const { graph, run, action } = options;
  const threadId = run.thread_id;
  const nothing = noPartial(action);
  const head = await graph.getState(rootConfig(threadId));
  // One run per thread: any checkpoint newer than the head at start was written by this run.
  const headId: string | undefined = head?.config?.configurable?.checkpoint_id;
  const headIsOurs = Boolean(headId) && headId !== options.startCheckpointId;
  let saved = nothing;
  let values: Record<string, unknown> | null = head?.values ?? {};
  const key = messagesKeyOf(values);
  if (headIsOurs && key) {
    const next: string[] = head.next ?? [];
    const current = (values?.[key] as unknown[]) ?? [];
    const byNode = pendingByNode(options.collector, next, current);
    const marker = { run_id: run.run_id, action, reason: options.reason };
    const updates = byNode.map(({ node, messages }) => ({
      asNode: node,
      values: { [key]: messages.map((m) => (m.committed ? coerceMessageLikeToMessage(m.committed as any) : buildPartialMessage(m, marker))) as unknown[] },
    }));
    // A stop while a tool ran: answer its committed calls, or the next provider request is rejected. Inside a
    // subgraph those calls are among the messages saved here, so the answers go into the same update.
    const results = cancelledToolResults([...current, ...updates.flatMap((u) => u.values[key])], run.run_id);
    if (results.length && updates.length) updates[updates.length - 1].values[key].push(...results);
    else if (results.length) updates.push({ asNode: next[0], values: { [key]: results } });
    if (updates.length) {
      // One superstep for every cut node, in `next` order (LangGraph's own task order), so parallel branches'
      // partials land in the same order on every run. Targeting the latest checkpoint (no id) folds in the
      // writes of sibling tasks that did finish, ahead of ours.
      const written = await graph.bulkUpdateState(rootConfig(threadId), [{ updates }]);
      // The messages have ids no message in the state has, so the messages reducer appended them.
      values = { ...values, [key]: [...current, ...updates.flatMap((u) => u.values[key])] };
      const streamed = byNode.flatMap((n) => n.messages).filter((m) => !m.committed);
      const id: string = written.configurable.checkpoint_id;
      saved = {
        message_id: (streamed.at(-1) ?? byNode.at(-1)?.messages.at(-1))?.id ?? null,
        token_count: streamed.reduce((n, m) => n + m.tokens, 0),
        checkpoint_id: id,
        parent_checkpoint_id: head.config.configurable.checkpoint_id,
        action,
        head_checkpoint_id: id,
      };
    }
  }
  if (action === "rollback" && headIsOurs) {
    saved = { ...saved, head_checkpoint_id: await restoreHead(options.checkpointer, run, options.startCheckpointId) };
    values = null;
  }
  return { partial: saved, values };
}

/**
 * What each cut root node streamed and never committed, by node in `next` order, each node's messages in stream
 * order. A node whose output is already checkpointed is not in `next`; a message already in the state (by id) is
 * not saved twice.
 */
function pendingByNode(collector: PartialCollector, next: string[], current: unknown): { node: string; messages: StreamedMessage[] }[] {
  const known = new Set((Array.isArray(current) ? current : []).map((m: any) => m?.id).filter(Boolean));
  const pending = collector.inFlight().filter((m) => (m.chunks.length > 0 || m.committed) && !known.has(m.id));
  return [...new Set(next)].map((node) => ({ node, messages: pending.filter((m) => m.node === node) })).filter((n) => n.messages.length);
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
