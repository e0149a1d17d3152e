/**
 * Converts LangGraph values to the JSON the LangGraph server sends: messages become `{...data, type}`
 * (LangChain's own toJSON would give the `{lc, kwargs}` constructor form the SDK does not read).
 */
export function toWire(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(toWire);
  if (isMessage(value)) return messageToWire(value);
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = toWire(inner);
  return out;
}

interface MessageLike {
  toDict(): { type: string; data: Record<string, unknown> };
  getType?(): string;
  _getType?(): string;
}

function isMessage(value: object): value is MessageLike {
  return typeof (value as MessageLike).toDict === "function" && (typeof (value as MessageLike).getType === "function" || typeof (value as MessageLike)._getType === "function");
}

/** `{content, id, type: "ai" | "human" | …, …}`; chunks report their base type, as the SDK expects. */
export function messageToWire(message: MessageLike): Record<string, unknown> {
  const { data } = message.toDict();
  const type = message.getType ? message.getType() : message._getType!();
  return { ...data, type };
}

/** Message-stream metadata without LangGraph's private keys. */
export function metadataToWire(metadata: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (key.startsWith("__") || typeof value === "function") continue;
    out[key] = value;
  }
  return out;
}
