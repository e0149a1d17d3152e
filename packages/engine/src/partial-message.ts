import { AIMessage } from "@langchain/core/messages";
import type { CancelAction } from "@runline/core";
import type { StreamedMessage } from "./partial-collector";

/** What Runline writes into a partial message's `response_metadata` so clients can tell it apart. */
export interface PartialMarker {
  cancelled: true;
  run_id: string;
  token_count: number;
  action: CancelAction;
  reason: "cancel" | "timeout" | "output_limit" | "worker_lost";
}

/**
 * Concatenates a message's streamed chunks into the `AIMessage` to save: same id as the chunks (so the
 * messages reducer treats it as that message), marked as partial, and without tool calls. A cut stream may
 * hold half a tool call, and even a complete one was never executed; providers reject an assistant tool call
 * with no tool result, so keeping it would break "please continue". The dropped calls stay visible in
 * `additional_kwargs.runline_dropped_tool_calls`.
 */
export function buildPartialMessage(streamed: StreamedMessage, marker: Omit<PartialMarker, "token_count" | "cancelled">): AIMessage {
  const merged = streamed.chunks.reduce((acc, chunk) => acc.concat(chunk));
  const droppedToolCalls = [...(merged.tool_call_chunks ?? [])].map((c: any) => ({ id: c.id, name: c.name, args: c.args }));
  const { tool_calls: _drop, ...additionalKwargs } = merged.additional_kwargs ?? {};
  const partial: PartialMarker = { cancelled: true, token_count: streamed.chunks.length, ...marker };
  return new AIMessage({
    id: streamed.id,
    content: merged.content,
    name: merged.name,
    additional_kwargs: {
      ...additionalKwargs,
      ...(droppedToolCalls.length ? { runline_dropped_tool_calls: droppedToolCalls } : {}),
    },
    response_metadata: { ...(merged.response_metadata ?? {}), runline_partial: partial },
  });
}
