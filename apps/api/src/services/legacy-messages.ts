import { messagesInUpdate } from "@runline/engine";
import { compareStreamIds, normaliseLastEventId, type JournalEntry } from "@runline/journal";
import { LegacyMessage } from "./legacy-message-accumulator";

/**
 * The LangGraph server's legacy `messages` stream mode, derived from the journal's message tuples: per message a
 * `messages/metadata` event when it first appears, then `messages/partial` with the message accumulated so far
 * (not a delta), and `messages/complete` when a node's output carries it. Derived frames carry the id of the
 * journal entry they come from.
 *
 * Accumulating needs every earlier chunk of a message, so a resumed subscriber reads the journal from the start,
 * but up to its Last-Event-ID it only folds chunks in (O(chunk) each) and serialises nothing: a resume costs one
 * linear pass, not the frames it already had. `messages` observes the whole pass (a test counts its work).
 */
export async function* withLegacyMessages(
  entries: AsyncIterable<JournalEntry>,
  lastEventId?: string,
  messages: Map<string, LegacyMessage> = new Map(),
): AsyncGenerator<JournalEntry> {
  const after = normaliseLastEventId(lastEventId);
  for await (const entry of entries) {
    const emit = !after || compareStreamIds(entry.id, after) > 0;
    if (entry.event === "messages") {
      const [chunk, metadata] = JSON.parse(entry.dataJson);
      const id: string = chunk?.id ?? "";
      const message = messages.get(id);
      if (message) message.add(chunk);
      else messages.set(id, new LegacyMessage(chunk));
      if (emit) {
        if (!message) yield { id: entry.id, event: "messages/metadata", dataJson: JSON.stringify({ [id]: { metadata } }) };
        yield { id: entry.id, event: "messages/partial", dataJson: messages.get(id)!.toPartialJson() };
      }
    } else if (entry.event === "updates" && emit) {
      const complete = messagesInUpdate(JSON.parse(entry.dataJson));
      if (complete.length) yield { id: entry.id, event: "messages/complete", dataJson: JSON.stringify(complete) };
    }
    if (emit) yield entry;
  }
}
