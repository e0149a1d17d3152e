/**
 * The bounds every request is checked against before anything is written (issue #9). Generous for any real
 * client (the LangGraph SDK, `useStream`), finite for a hostile one: no input can make the API recurse, loop or
 * answer without bound. The README's API section lists the same numbers; change both together.
 */
export const INPUT_LIMITS = {
  /** Deepest nesting of objects and arrays in a JSON body (checked on the raw bytes, before parsing). */
  jsonDepth: 64,
  /** Ids: threads, runs, assistants (graph names too), checkpoints. */
  idLength: 200,
  /** Short strings: tags, node names, `as_node`, `run_name`, metadata keys. */
  nameLength: 256,
  /** A checkpoint namespace (`parent:<id>|child:<id>`…). */
  namespaceLength: 1024,
  /** Keys of one `metadata`, `configurable`, `context` or `checkpoint_map` object. */
  objectKeys: 128,
  /** Entries of `stream_mode` (there are 8 modes; duplicates are allowed and collapsed). */
  streamModes: 16,
  /** Entries of `config.tags`, `interrupt_before` / `interrupt_after`. */
  listEntries: 64,
  /** `ids` of a thread search and `run_ids` of a bulk cancel. */
  idList: 1000,
  /** `limit` of every list route. */
  pageSize: 1000,
  /** `offset` of every list route. */
  offset: 1_000_000,
  /** `after_seconds` of a run: one day. */
  afterSeconds: 86_400,
  /** `config.recursion_limit` (LangGraph's default is 25). */
  recursionLimit: 1000,
  /** `config.max_concurrency`. */
  maxConcurrency: 1000,
  /** Issues one validation error answer lists; the rest are counted, not listed. */
  errorIssues: 20,
  /** Characters of one issue's message (and of a path) in an error answer. */
  errorMessageLength: 200,
} as const;

/** `s` cut to `max` characters, with an ellipsis when it was longer. */
export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}
