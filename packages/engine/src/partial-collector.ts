import { messagesInUpdate } from "./update-messages";

/**
 * Keeps what every message a run streamed holds so far, grouped by message id, so a cancelled run can save what
 * the model produced before the stop. Chunks are kept by reference (LangGraph emits them by reference and we
 * never mutate them); every {@link MERGE_AT} of them are concatenated into one, in stream order (LangChain's
 * `concat` is a left fold, so this is the message the whole list would give). A streamed chunk retains ~1 KB:
 * kept one by one, a 100-token answer holds 100 KB for as long as the run streams (70 MB at 800 concurrent runs),
 * while a merge costs ~2.5 µs per chunk, about what concatenating them at the cancel would cost anyway.
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
  /** The chunks in stream order; the first may be several of them already concatenated. */
  chunks: any[];
  /** How many chunks were streamed (the partial's `token_count`). */
  tokens: number;
  /** The message as a subgraph node committed it (a LangChain message or its wire form); unset while in flight. */
  committed?: unknown;
}

/** Chunks of one message kept apart before they are concatenated into one. */
export const MERGE_AT = 32;

export class PartialCollector {
  private readonly messages = new Map<string, StreamedMessage>();
  private completed = new Set<string>();
  private readonly unmergeable = new WeakSet<StreamedMessage>();

  add(chunk: any, metadata: Record<string, unknown>, namespace: string[] = []): void {
    const id: string | undefined = chunk?.id;
    if (!id) return;
    const entry = this.entry(id, namespace, metadata);
    entry.chunks.push(chunk);
    entry.tokens += 1;
    if (entry.chunks.length >= MERGE_AT && !this.unmergeable.has(entry)) {
      try {
        entry.chunks = [entry.chunks.reduce((acc, c) => acc.concat(c))];
      } catch {
        // Not chunks LangChain can concatenate (or fields that clash): kept apart, as before merging, and the
        // stream goes on; a cancel's save meets the same error it always would have.
        this.unmergeable.add(entry);
      }
    }
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
    for (const m of this.inFlight()) n += m.tokens;
    return n;
  }

  private entry(id: string, namespace: string[], metadata: Record<string, unknown>): StreamedMessage {
    let entry = this.messages.get(id);
    if (!entry) {
      // A namespace segment is `node:<task id>`; its first one names the root node.
      const node = namespace.length ? namespace[0].split(":")[0] : String(metadata.langgraph_node ?? "");
      entry = { id, node, namespace, chunks: [], tokens: 0 };
      this.messages.set(id, entry);
    }
    return entry;
  }
}
