// What both pages read from Runline's messages, whatever shape the hook hands them in (plain dicts from the
// legacy hook, @langchain/core message classes from @langchain/react 1.x).

/** What Runline writes into `response_metadata.runline_partial` of a message it saved when a run was stopped. */
export interface RunlinePartial {
  cancelled?: boolean;
  run_id?: string;
  token_count?: number;
  action?: string;
  reason?: string;
}

interface MessageLike {
  id?: string;
  type?: string;
  content?: unknown;
  response_metadata?: Record<string, unknown>;
  getType?: () => string;
}

/** `human`, `ai`, … for a dict (`type`) or a class instance (`getType()`, `type` on newer core). */
export function typeOf(message: MessageLike): string {
  return message.type ?? message.getType?.() ?? "unknown";
}

export function textOf(message: MessageLike): string {
  const { content } = message;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (part && typeof part === "object" && typeof part.text === "string" ? part.text : "")).join("");
}

export function partialOf(message: MessageLike | undefined): RunlinePartial | undefined {
  if (!message || typeOf(message) !== "ai") return undefined;
  return (message.response_metadata?.runline_partial as RunlinePartial | undefined) ?? undefined;
}

export const ROLE: Record<string, string> = { human: "You", ai: "Story", system: "System", tool: "Tool" };
