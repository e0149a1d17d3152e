/**
 * The messages a node update carries (`{node: {messages: message | message[]}}`), with an id: what a node committed.
 * Works on LangChain message objects and on their wire (JSON) form alike. `key: null` reads every state key, for
 * graphs whose messages live under another key (`chat`): a committed message is committed whatever its key.
 */
export function messagesInUpdate(update: Record<string, any> | null | undefined, key: string | null = "messages"): Array<{ id: string; [key: string]: unknown }> {
  const out: Array<{ id: string }> = [];
  for (const output of Object.values(update ?? {})) {
    if (!output || typeof output !== "object") continue;
    const values = key === null ? Object.values(output) : [output[key]];
    for (const value of values) {
      // Under another key only real messages count (a list of strings with ids is not a committed message).
      for (const message of Array.isArray(value) ? value : value ? [value] : []) if (key === null ? looksLikeMessage(message) : message?.id) out.push(message);
    }
  }
  return out;
}

/** A LangChain message or its wire form, with an id. */
export function looksLikeMessage(value: any): value is { id: string } {
  return Boolean(value && typeof value === "object" && typeof value.id === "string" && "content" in value && (typeof value.getType === "function" || typeof value.type === "string"));
}
