import { messagesInUpdate } from "@runline/engine";
import { compareStreamIds, normaliseLastEventId, type JournalEntry } from "@runline/journal";

/**
 * The LangGraph server's legacy `messages` stream mode, derived from the journal's message tuples: per message a
 * `messages/metadata` event when it first appears, then `messages/partial` with the message accumulated so far
 * (not a delta), and `messages/complete` when a node's output carries it. Accumulating needs every earlier chunk,
 * so a resumed subscriber reads the journal from the start and only emits what comes after its Last-Event-ID.
 * Derived frames carry the id of the journal entry they come from.
 */
export async function* withLegacyMessages(entries: AsyncIterable<JournalEntry>, lastEventId?: string): AsyncGenerator<JournalEntry> {
  const after = normaliseLastEventId(lastEventId);
  const accumulated = new Map<string, Record<string, any>>();
  for await (const entry of entries) {
    const emit = !after || compareStreamIds(entry.id, after) > 0;
    const derived: JournalEntry[] = [];
    if (entry.event === "messages") {
      const [chunk, metadata] = JSON.parse(entry.dataJson);
      const id: string = chunk?.id ?? "";
      const previous = accumulated.get(id);
      const message = previous ? accumulate(previous, chunk) : { ...chunk };
      accumulated.set(id, message);
      if (!previous) derived.push({ id: entry.id, event: "messages/metadata", dataJson: JSON.stringify({ [id]: { metadata } }) });
      derived.push({ id: entry.id, event: "messages/partial", dataJson: JSON.stringify([message]) });
    } else if (entry.event === "updates") {
      const complete = messagesInUpdate(JSON.parse(entry.dataJson));
      if (complete.length) derived.push({ id: entry.id, event: "messages/complete", dataJson: JSON.stringify(complete) });
    }
    if (emit) {
      yield* derived;
      yield entry;
    }
  }
}

function accumulate(message: Record<string, any>, chunk: Record<string, any>): Record<string, any> {
  const content =
    typeof message.content === "string" && typeof chunk.content === "string"
      ? message.content + chunk.content
      : [...toParts(message.content), ...toParts(chunk.content)];
  return {
    ...message,
    ...chunk,
    content,
    tool_call_chunks: [...(message.tool_call_chunks ?? []), ...(chunk.tool_call_chunks ?? [])],
    additional_kwargs: { ...message.additional_kwargs, ...chunk.additional_kwargs },
    response_metadata: { ...message.response_metadata, ...chunk.response_metadata },
  };
}

function toParts(content: unknown): unknown[] {
  if (Array.isArray(content)) return content;
  return typeof content === "string" && content ? [{ type: "text", text: content }] : [];
}
