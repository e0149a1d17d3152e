import { messagesInUpdate } from "./update-messages";

/**
 * Keeps every message chunk a run streamed, grouped by message id, so a cancelled run can save what the
 * model produced before the stop. Chunks are kept by reference (LangGraph emits them by reference and we
 * never mutate them) and only concatenated when a partial is actually needed.
 *
 * Subgraph messages (`stream_subgraphs`) are kept too, under the root node that runs the subgraph: a cancel
 * saves them into the root state as that node's output (see `savePartialOutput`). A message a subgraph's own
 * node committed is kept as committed, since it is in the subgraph's checkpoint but not yet in the root's.
 */
export interface StreamedMessage {
  id: string;
  /** The root node whose task streamed it (for a subgraph message: the root node that runs the subgraph). */
  node: string;
  /** The stream namespace it came from (`[]` at the root, `["inner:<task id>", …]` inside subgraphs). */
  namespace: string[];
  chunks: any[];
  /** The message as a subgraph node committed it (a LangChain message or its wire form); unset while in flight. */
  committed?: unknown;
}

export class PartialCollector {
  private readonly messages = new Map<string, StreamedMessage>();
  private completed = new Set<string>();

  add(chunk: any, metadata: Record<string, unknown>, namespace: string[] = []): void {
    const id: string | undefined = chunk?.id;
    if (!id) return;
    this.entry(id, namespace, metadata).chunks.push(chunk);
  }

  /**
   * A node's `updates` event (root or subgraph namespace), from the live stream or the journal: the messages it
   * committed, under any state key (the saver finds the graph's messages key later: `chat`, not only `messages`).
   */
  addUpdate(update: Record<string, any> | null | undefined, namespace: string[] = []): void {
    const committed = messagesInUpdate(update, null);
    if (!namespace.length) this.markCompleted(committed.map((m) => m.id));
    else this.commitInSubgraph(namespace, committed);
  }

  /** A subgraph node finished: its messages are final, but only in the subgraph's checkpoint (the root node still runs). */
  commitInSubgraph(namespace: string[], messages: Iterable<{ id: string }>): void {
    for (const message of messages) this.entry(message.id, namespace, {}).committed = message;
  }

  /** A root node finished and its output was checkpointed: its messages are no longer partial. */
  markCompleted(messageIds: Iterable<string>): void {
    for (const id of messageIds) this.completed.add(id);
  }

  /** Messages still in flight (streamed, or committed by a subgraph, but not part of a committed root node output), in stream order. */
  inFlight(): StreamedMessage[] {
    return [...this.messages.values()].filter((m) => !this.completed.has(m.id));
  }

  tokenCount(): number {
    let n = 0;
    for (const m of this.inFlight()) n += m.chunks.length;
    return n;
  }

  private entry(id: string, namespace: string[], metadata: Record<string, unknown>): StreamedMessage {
    let entry = this.messages.get(id);
    if (!entry) {
      // A namespace segment is `node:<task id>`; its first one names the root node.
      const node = namespace.length ? namespace[0].split(":")[0] : String(metadata.langgraph_node ?? "");
      entry = { id, node, namespace, chunks: [] };
      this.messages.set(id, entry);
    }
    return entry;
  }
}
