import { AIMessageChunk } from "@langchain/core/messages";
import { PartialCollector } from "./partial-collector";

/** A journal entry as far as this module cares. */
interface EntryLike {
  event: string;
  dataJson: string;
}

/**
 * Rebuilds what a dead worker streamed from the run's journal: every `messages` token that reached it (root and
 * subgraph namespaces), grouped by message id, minus the messages a root node update already committed, and with
 * the messages a subgraph node committed (the same collector `executeRun` fills). Lets another worker save the partial
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
    // Subgraph events are `messages|<ns>|…` and `updates|<ns>|…` (see `executeRun`).
    const [event, ...namespace] = entry.event.split("|");
    if (event === "messages") {
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
          // Kept like a live cancel's partial keeps it (the usage chunk's counts, when the provider sent them).
          ...(chunk.usage_metadata ? { usage_metadata: chunk.usage_metadata } : {}),
        }),
        metadata ?? {},
        namespace,
      );
    } else if (event === "updates") {
      collector.addUpdate(JSON.parse(entry.dataJson), namespace);
    }
  }
  return collector;
}
