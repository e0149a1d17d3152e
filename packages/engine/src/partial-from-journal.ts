import { AIMessageChunk } from "@langchain/core/messages";
import { PartialCollector } from "./partial-collector";
import { messagesInUpdate } from "./update-messages";

/** A journal entry as far as this module cares. */
interface EntryLike {
  event: string;
  dataJson: string;
}

/**
 * Rebuilds what a dead worker streamed from the run's journal: every `messages` token that reached it, grouped
 * by message id, and minus the messages a node update already committed. Lets another worker save the partial
 * output without calling the model again.
 */
export async function collectorFromJournal(entries: AsyncIterable<EntryLike>, fromAttempt?: number | "latest"): Promise<PartialCollector> {
  let collector = new PartialCollector();
  let attempt = 0;
  for await (const entry of entries) {
    if (entry.event === "metadata") {
      const next = Number(JSON.parse(entry.dataJson).attempt ?? attempt);
      // "latest": only the last attempt that wrote to the journal has tokens nobody saved yet (each attempt
      // saves its predecessor's partial before its own first `metadata` event).
      if (fromAttempt === "latest" && next !== attempt) collector = new PartialCollector();
      attempt = next;
      continue;
    }
    if (typeof fromAttempt === "number" && attempt !== fromAttempt) continue;
    if (entry.event === "messages") {
      const [chunk, metadata] = JSON.parse(entry.dataJson);
      if (chunk?.type !== "ai" && chunk?.type !== "AIMessageChunk") continue;
      collector.add(
        new AIMessageChunk({
          id: chunk.id,
          content: chunk.content,
          name: chunk.name,
          additional_kwargs: chunk.additional_kwargs ?? {},
          response_metadata: chunk.response_metadata ?? {},
          tool_call_chunks: chunk.tool_call_chunks ?? [],
        }),
        metadata ?? {},
      );
    } else if (entry.event === "updates") {
      collector.markCompleted(messagesInUpdate(JSON.parse(entry.dataJson)).map((m) => m.id));
    }
  }
  return collector;
}
