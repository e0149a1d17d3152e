/**
 * Keeps every message chunk a run streamed, grouped by message id, so a cancelled run can save what the
 * model produced before the stop. Chunks are kept by reference (LangGraph emits them by reference and we
 * never mutate them) and only concatenated when a partial is actually needed.
 */
export interface StreamedMessage {
  id: string;
  node: string;
  chunks: any[];
}

export class PartialCollector {
  private readonly messages = new Map<string, StreamedMessage>();
  private completed = new Set<string>();

  add(chunk: any, metadata: Record<string, unknown>): void {
    const id: string | undefined = chunk?.id;
    if (!id) return;
    let entry = this.messages.get(id);
    if (!entry) {
      entry = { id, node: String(metadata.langgraph_node ?? ""), chunks: [] };
      this.messages.set(id, entry);
    }
    entry.chunks.push(chunk);
  }

  /** A node finished and its output was checkpointed: its messages are no longer partial. */
  markCompleted(messageIds: Iterable<string>): void {
    for (const id of messageIds) this.completed.add(id);
  }

  /** Messages still in flight (streamed but not part of a committed node output), in stream order. */
  inFlight(): StreamedMessage[] {
    return [...this.messages.values()].filter((m) => !this.completed.has(m.id));
  }

  tokenCount(): number {
    let n = 0;
    for (const m of this.inFlight()) n += m.chunks.length;
    return n;
  }
}
