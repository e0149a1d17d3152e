import { ReadCoalescer } from "@runline/core";
import type { Redis } from "ioredis";
import { gapEntry, type JournalEntry } from "./entry";
import { journalKeys } from "./keys";
import { defineScript } from "./redis-script";
import { compareStreamIds, normaliseLastEventId } from "./stream-id";

/** Options of {@link readRange}. */
export interface ReadRangeOptions {
  /** Entries per `XRANGE` call, so a long backlog is read in bounded steps instead of one blocking reply. @defaultValue 500 */
  pageSize?: number;
}

type RawEntry = [id: string, fields: string[]];
/** `XINFO STREAM` (flat field/value list) and the first `XRANGE` page, or null when the stream does not exist. */
type FirstPage = [info: unknown[], entries: RawEntry[]] | null;
type FirstPageCall = (key: string, start: string, count: number) => Promise<FirstPage>;

// XINFO and the first page in one script: the trim check and the entries it judges come from the same moment.
// A script, not MULTI (see defineScript): no pipeline built per subscriber joining.
const FIRST_PAGE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return {redis.call('XINFO', 'STREAM', KEYS[1]), redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])}`;

interface FirstPageReader {
  call: FirstPageCall;
  coalescer: ReadCoalescer<FirstPage>;
}
const firstPageReaders = new WeakMap<Redis, FirstPageReader>();
function firstPageReader(redis: Redis): FirstPageReader {
  let reader = firstPageReaders.get(redis);
  if (!reader) {
    const call = defineScript<FirstPageCall>(redis, "runlineJournalFirstPage", FIRST_PAGE_LUA, 1);
    firstPageReaders.set(redis, (reader = { call, coalescer: new ReadCoalescer() }));
  }
  return reader;
}

/**
 * Reads a run's stored entries after `afterId` (exclusive; `undefined` or `-1` = from the start), oldest first,
 * page by page. If entries after `afterId` were trimmed away (see `JournalWriterOptions.maxLen`), the first thing
 * yielded is a `gap` entry, so the reader knows it missed events rather than skipping them silently.
 * Ends at the current end of the stream; a missing stream yields nothing.
 * @throws ValidationError when `afterId` is not a stream id.
 */
export async function* readRange(
  redis: Redis,
  prefix: string,
  runId: string,
  afterId?: string,
  opts: ReadRangeOptions = {},
): AsyncGenerator<JournalEntry, void, undefined> {
  const after = normaliseLastEventId(afterId);
  const pageSize = opts.pageSize ?? 500;
  const key = journalKeys(prefix).events(runId);
  const start = after ? `(${after}` : "-";
  // Readers of the same page (many subscribers joining one run) share a read made after they asked.
  const reader = firstPageReader(redis);
  const first = await reader.coalescer.run(`${key}\n${start}\n${pageSize}`, () => reader.call(key, start, pageSize));
  if (!first) return; // no such key: the run never wrote, or its retention expired
  const gap = detectGap(first[0], after);
  if (gap) yield gap;

  let page = first[1];
  for (;;) {
    for (const raw of page) yield toEntry(raw);
    if (page.length < pageSize) return;
    page = (await redis.xrange(key, `(${page[page.length - 1]![0]}`, "+", "COUNT", pageSize)) as RawEntry[];
  }
}

/**
 * A gap exists when the stream was trimmed and the reader's position is older than the oldest stored entry.
 * Redis >= 7 reports `entries-added`, so "was trimmed" is known (journals are only ever trimmed, never XDEL'd).
 * Conservative at one boundary: resuming from exactly the last trimmed entry also reports a (zero-width) gap.
 */
function detectGap(info: unknown[], after: string | undefined): JournalEntry | undefined {
  const fields = new Map<string, unknown>();
  for (let i = 0; i + 1 < info.length; i += 2) fields.set(String(info[i]), info[i + 1]);
  const firstEntry = fields.get("first-entry") as RawEntry | null | undefined;
  if (!firstEntry) return undefined;
  const firstId = firstEntry[0];
  const added = fields.get("entries-added");
  // Older Redis cannot say whether anything was trimmed: only a resume id older than the first entry counts.
  const trimmed = added === undefined ? after !== undefined : Number(added) > Number(fields.get("length"));
  if (!trimmed || compareStreamIds(after ?? "0-0", firstId) >= 0) return undefined;
  return gapEntry(after, firstId);
}

// The readers that share a first page (see ReadCoalescer) share its entry objects too, so what is built from an
// entry once per process (an SSE frame) is built once for all of them.
const entriesOfRaw = new WeakMap<RawEntry, JournalEntry>();

function toEntry(raw: RawEntry): JournalEntry {
  let entry = entriesOfRaw.get(raw);
  if (!entry) entriesOfRaw.set(raw, (entry = parseRawEntry(raw)));
  return entry;
}

function parseRawEntry([id, fields]: RawEntry): JournalEntry {
  let event = "";
  let dataJson = "null";
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "e") event = fields[i + 1]!;
    else if (fields[i] === "d") dataJson = fields[i + 1]!;
  }
  return { id, event, dataJson };
}
