/** A JSON value's text without its quotes: the escaped body of a JSON string. */
function escaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/**
 * One message of the legacy `messages` mode, accumulated chunk by chunk, that can serialise itself as the
 * `messages/partial` payload (`[message]`) without re-serialising what came before.
 *
 * The protocol sends the whole message so far on every token, so the bytes on the wire grow with the message
 * whatever we do; the work here must not. The growing parts (the content, the tool-call chunks) are kept as
 * already-escaped JSON text, appended to once per chunk, so a frame is a few string concatenations (V8 keeps
 * them as ropes until the socket write) and a small `JSON.stringify` of the fixed-size fields. Before, every
 * token stringified the whole accumulated message: O(n²) for an n-token message.
 */
export class LegacyMessage {
  /** Every field but the growing ones, as the latest chunk left them. */
  private readonly rest: Record<string, unknown> = {};
  private readonly additionalKwargs: Record<string, unknown> = {};
  private readonly responseMetadata: Record<string, unknown> = {};
  /** The content while it is a string: its escaped JSON text. Null once it became a list of parts. */
  private textJson: string | null = "";
  /** The content once it is a list of parts: the parts' JSON, comma-separated. */
  private partsJson = "";
  private toolCallChunksJson = "";
  /** Characters serialised with `JSON.stringify` so far: what a test counts to show the work is linear. */
  stringifiedChars = 0;

  constructor(first: Record<string, any>) {
    this.add(first, true);
  }

  /** Folds one more chunk in, with the semantics of LangChain's chunk concatenation (as before this class). */
  add(chunk: Record<string, any>, first = false): void {
    const { content, tool_call_chunks: toolCallChunks, additional_kwargs: kwargs, response_metadata: metadata, ...rest } = chunk ?? {};
    Object.assign(this.rest, rest);
    Object.assign(this.additionalKwargs, kwargs);
    Object.assign(this.responseMetadata, metadata);
    for (const tc of toolCallChunks ?? []) this.toolCallChunksJson += (this.toolCallChunksJson ? "," : "") + this.stringify(tc);
    if (first && Array.isArray(content)) this.toParts();
    if (this.textJson !== null && (typeof content === "string" || content === undefined)) {
      this.textJson += escaped(content ?? "");
      this.stringifiedChars += (content ?? "").length;
    } else {
      this.toParts();
      const parts = Array.isArray(content) ? content : typeof content === "string" && content ? [{ type: "text", text: content }] : [];
      for (const part of parts) this.partsJson += (this.partsJson ? "," : "") + this.stringify(part);
    }
  }

  /** The `messages/partial` payload: `[message]` as JSON. */
  toPartialJson(): string {
    const head = this.stringify({ ...this.rest, additional_kwargs: this.additionalKwargs, response_metadata: this.responseMetadata });
    const content = this.textJson !== null ? `"${this.textJson}"` : `[${this.partsJson}]`;
    return `[${head.slice(0, -1)},"content":${content},"tool_call_chunks":[${this.toolCallChunksJson}]}]`;
  }

  /** A string content that meets a list becomes its first part (LangChain's rule for mixed chunks). */
  private toParts(): void {
    if (this.textJson === null) return;
    if (this.textJson) this.partsJson = `{"type":"text","text":"${this.textJson}"}`;
    this.textJson = null;
  }

  private stringify(value: unknown): string {
    const json = JSON.stringify(value) ?? "null";
    this.stringifiedChars += json.length;
    return json;
  }
}
