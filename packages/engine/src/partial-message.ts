import { AIMessage } from "@langchain/core/messages";
import type { CancelAction } from "@runline/core";
import type { StreamedMessage } from "./partial-collector";

/** What Runline writes into a partial message's `response_metadata` so clients can tell it apart. */
export interface PartialMarker {
  cancelled: true;
  run_id: string;
  token_count: number;
  action: CancelAction;
  reason: "cancel" | "timeout" | "output_limit" | "worker_lost" | "error";
  /** The provider's own finish reason, when its last chunk arrived before the stop (the message still never committed). */
  provider_finish_reason?: string;
}

/**
 * Concatenates a message's streamed chunks into the `AIMessage` to save: same id as the chunks (so the
 * messages reducer treats it as that message), marked as partial, and without tool calls. A cut stream may
 * hold half a tool call, and even a complete one was never executed; providers reject an assistant tool call
 * with no tool result, so keeping it would break "please continue". The dropped calls stay visible in
 * `additional_kwargs.runline_dropped_tool_calls`. What the provider sent is kept: the message id (`chatcmpl-…`),
 * `usage_metadata` if the usage chunk came, and `response_metadata`, whose `finish_reason` becomes `cancelled`
 * (a client that reads only that field must not take a cut answer for a finished one).
 */
export function buildPartialMessage(streamed: Pick<StreamedMessage, "id" | "chunks"> & Partial<StreamedMessage>, marker: Omit<PartialMarker, "token_count" | "cancelled">): AIMessage {
  const merged = streamed.chunks.reduce((acc, chunk) => acc.concat(chunk));
  const droppedToolCalls = [...(merged.tool_call_chunks ?? [])].map((c: any) => ({ id: c.id, name: c.name, args: c.args }));
  const { tool_calls: _drop, ...additionalKwargs } = merged.additional_kwargs ?? {};
  const providerFinish = merged.response_metadata?.finish_reason;
  const partial: PartialMarker = {
    cancelled: true,
    token_count: streamed.tokens ?? streamed.chunks.length,
    ...marker,
    ...(typeof providerFinish === "string" ? { provider_finish_reason: providerFinish } : {}),
  };
  return new AIMessage({
    id: streamed.id,
    content: merged.content,
    name: merged.name,
    additional_kwargs: {
      ...additionalKwargs,
      ...(droppedToolCalls.length ? { runline_dropped_tool_calls: droppedToolCalls } : {}),
    },
    ...(merged.usage_metadata ? { usage_metadata: merged.usage_metadata } : {}),
    response_metadata: { ...(merged.response_metadata ?? {}), finish_reason: "cancelled", runline_partial: partial },
  });
}
