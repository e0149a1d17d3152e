import { EncodedJson } from "@runline/core";
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
  toDict(): { type: string; data: object };
  getType?(): string;
  _getType?(): string;
}

function isMessage(value: object): value is MessageLike {
  return typeof (value as MessageLike).toDict === "function" && (typeof (value as MessageLike).getType === "function" || typeof (value as MessageLike)._getType === "function");
}

/** `{content, id, type: "ai" | "human" | …, …}`; chunks report their base type, as the SDK expects. */
export function messageToWire(message: MessageLike): Record<string, unknown> {
  const type = message.getType ? message.getType() : message._getType!();
  return { ...(plainMessageFields(message) ?? (message.toDict().data as Record<string, unknown>)), type };
}

const SNAKE_KEY = /^[a-z][a-z0-9_]*$/;
// Every chunk of a model call has the same few keys: test each key name once per process, not once per chunk.
const snakeKeys = new Map<string, boolean>();
function isSnakeKey(key: string): boolean {
  let ok = snakeKeys.get(key);
  if (ok === undefined) {
    ok = SNAKE_KEY.test(key);
    if (snakeKeys.size < 1_000) snakeKeys.set(key, ok);
  }
  return ok;
}

/**
 * The fields `toDict()` would give, read directly: `toDict()` goes through LangChain's generic serialiser (about
 * 8 µs a chunk, a large share of the per-token CPU). The keys are the constructor's `lc_kwargs`, the values the
 * message's current ones. Returns null, so the caller falls back to `toDict()`, for anything that serialiser
 * would rename or escape (a camelCase alias, a value that looks like a serialised LangChain object).
 */
function plainMessageFields(message: MessageLike): Record<string, unknown> | null {
  const kwargs = (message as { lc_kwargs?: Record<string, unknown> }).lc_kwargs;
  if (!kwargs || typeof kwargs !== "object" || Array.isArray(kwargs)) return null;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(kwargs)) {
    if (!isSnakeKey(key)) return null;
    const value = key in message ? (message as unknown as Record<string, unknown>)[key] : kwargs[key];
    if (value !== null && typeof value === "object" && !Array.isArray(value) && ("lc" in value || "__lc_escaped__" in value)) return null;
    out[key] = value;
  }
  return out;
}

// LangGraph passes the same metadata object with every chunk of one model call: convert it once.
const wireMetadata = new WeakMap<object, Record<string, unknown>>();

/** Message-stream metadata without LangGraph's private keys. */
export function metadataToWire(metadata: Record<string, unknown>): Record<string, unknown> {
  const cached = wireMetadata.get(metadata);
  if (cached) return cached;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (key.startsWith("__") || typeof value === "function") continue;
    out[key] = value;
  }
  wireMetadata.set(metadata, out);
  return out;
}

const wireMetadataJson = new WeakMap<object, string>();

/**
 * The data of a `messages` event, `[chunk, metadata]` in wire form, already encoded: the metadata's JSON (about
 * three quarters of the frame) is encoded once per model call, since LangGraph passes the same object with each
 * of its chunks.
 */
export function messagesEventData(chunk: unknown, metadata: Record<string, unknown>): EncodedJson {
  let metadataJson = wireMetadataJson.get(metadata);
  if (metadataJson === undefined) wireMetadataJson.set(metadata, (metadataJson = JSON.stringify(metadataToWire(metadata))));
  return new EncodedJson(`[${JSON.stringify(toWire(chunk)) ?? "null"},${metadataJson}]`);
}
