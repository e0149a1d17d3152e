/** Name of the terminal event: the last entry of every run's journal. */
export const END_EVENT = "end";

/**
 * Name of the synthetic entry a reader yields when entries it should have delivered were trimmed from the
 * stream (see `JournalWriterOptions.maxLen`). Never stored; the writer refuses it as an event name.
 */
export const GAP_EVENT = "gap";

/**
 * The event name without its `|namespace` suffix (`messages|agent:1` → `messages`): what a stream-mode filter
 * matches, and a bounded metric label.
 */
export function baseEventName(event: string): string {
  const bar = event.indexOf("|");
  return bar < 0 ? event : event.slice(0, bar);
}

/** One journal event as the worker writes it. */
export interface JournalEvent {
  /** `metadata`, `values`, `messages`, `updates`, `custom`, `error`, or the terminal `end`. */
  event: string;
  data: unknown;
}

/**
 * One journal entry as read back. `dataJson` stays the JSON text the worker wrote: an SSE writer copies it into
 * the `data:` line as is, so the hot path never parses and re-serialises a token.
 */
export interface JournalEntry {
  /** Stream entry id (`"1732712345678-0"`); the SSE `id:`. For a `gap` entry, the resume point it was asked for. */
  id: string;
  event: string;
  dataJson: string;
}

/** What a `gap` entry's data holds. */
export interface JournalGap {
  /** The id the reader resumed after (`null` = from the start). */
  afterId: string | null;
  /** The oldest entry still stored; everything between `afterId` and it may have been trimmed. */
  firstAvailableId: string;
  message: string;
}

/** Parses an entry's data. Only for consumers that need the value; SSE forwarding should use `dataJson`. */
export function parseEntryData<T = unknown>(entry: JournalEntry): T {
  return JSON.parse(entry.dataJson) as T;
}

/** Builds the synthetic entry that tells a subscriber it lost entries to trimming instead of skipping them silently. */
export function gapEntry(afterId: string | undefined, firstAvailableId: string): JournalEntry {
  const gap: JournalGap = {
    afterId: afterId ?? null,
    firstAvailableId,
    message: "Events were trimmed from the run journal before this subscriber read them",
  };
  return { id: afterId ?? "0-0", event: GAP_EVENT, dataJson: JSON.stringify(gap) };
}

/**
 * Decodes a live pub/sub message (`id \n event \n json`, written by the append script). Event names never
 * contain a newline (the writer checks), so the first two newlines are the separators; the JSON may hold more.
 */
export function decodeLiveMessage(message: string): JournalEntry | undefined {
  const a = message.indexOf("\n");
  const b = a < 0 ? -1 : message.indexOf("\n", a + 1);
  if (b < 0) return undefined;
  return { id: message.slice(0, a), event: message.slice(a + 1, b), dataJson: message.slice(b + 1) };
}
