/**
 * A value already encoded as JSON, for a writer that builds an event from parts it encodes once: every token of
 * one model call carries the same metadata (about three quarters of the bytes), so the worker encodes it once
 * per call rather than once per token. The journal stores `json` as it is; whoever builds one vouches for it.
 */
export class EncodedJson {
  constructor(readonly json: string) {}
}

/**
 * The JSON the journal stores for an event's data: an {@link EncodedJson} as it is, `undefined` as `null`.
 * @throws TypeError for data `JSON.stringify` cannot encode (a function, a symbol).
 */
export function encodeEventData(data: unknown): string {
  if (data instanceof EncodedJson) return data.json;
  if (data === undefined) return "null";
  const json = JSON.stringify(data);
  if (json === undefined) throw new TypeError("Journal event data must be JSON-serialisable");
  return json;
}
