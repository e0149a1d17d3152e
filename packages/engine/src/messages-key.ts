import { isBaseMessage } from "@langchain/core/messages";

/**
 * The state key a graph keeps its conversation under, read from the thread's values: `messages` when the state
 * has it, otherwise the one key whose value is a list of LangChain messages (a `chat` key, say). Null when there
 * is none or more than one: a partial then has no key it certainly belongs to, and nothing is saved.
 */
export function messagesKeyOf(values: Record<string, unknown> | null | undefined): string | null {
  if (!values) return null;
  if ("messages" in values) return "messages";
  const keys = Object.entries(values)
    .filter(([, value]) => Array.isArray(value) && value.length > 0 && value.every((m) => isBaseMessage(m)))
    .map(([key]) => key);
  return keys.length === 1 ? keys[0] : null;
}
