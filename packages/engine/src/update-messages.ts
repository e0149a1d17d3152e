/**
 * The messages a node update carries (`{node: {messages: message | message[]}}`), with an id: what a node committed.
 * Works on LangChain message objects and on their wire (JSON) form alike.
 */
export function messagesInUpdate(update: Record<string, any> | null | undefined): Array<{ id: string; [key: string]: unknown }> {
  const out: Array<{ id: string }> = [];
  for (const output of Object.values(update ?? {})) {
    const messages = output?.messages;
    for (const message of Array.isArray(messages) ? messages : messages ? [messages] : []) if (message?.id) out.push(message);
  }
  return out;
}
