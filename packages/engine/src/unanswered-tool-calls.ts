import { ToolMessage } from "@langchain/core/messages";

/** Content of the ToolMessage Runline writes for a tool call a stop cut off. */
export const CANCELLED_TOOL_RESULT = "Cancelled: the run was stopped before this tool returned a result.";

/**
 * ToolMessages answering the tool calls of the thread's last AI message that have no result yet. A stop while a
 * tool runs leaves that AI message committed (its node finished) and the tool's node cut off; providers reject
 * an assistant tool call with no result, so "please continue" would fail. The calls were complete and are part
 * of committed history, so Runline answers them (`status: "error"`, marked `runline_cancelled`) rather than
 * rewriting the message. Tool results that did commit are kept as they are.
 */
export function cancelledToolResults(messages: unknown, runId: string): ToolMessage[] {
  if (!Array.isArray(messages)) return [];
  let lastAi = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (typeOf(messages[i]) === "ai") {
      lastAi = i;
      break;
    }
  }
  if (lastAi < 0) return [];
  const calls: { id?: string; name?: string }[] = messages[lastAi].tool_calls ?? [];
  const answered = new Set(messages.slice(lastAi + 1).filter((m) => typeOf(m) === "tool").map((m) => m.tool_call_id));
  return calls
    .filter((c) => c.id && !answered.has(c.id))
    .map(
      (c) =>
        new ToolMessage({
          tool_call_id: c.id!,
          name: c.name,
          content: CANCELLED_TOOL_RESULT,
          status: "error",
          additional_kwargs: { runline_cancelled: { run_id: runId } },
        }),
    );
}

function typeOf(message: any): string | undefined {
  return typeof message?.getType === "function" ? message.getType() : message?.type;
}
