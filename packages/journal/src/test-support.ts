// Test-only helpers shared by this package's integration tests (not exported from index.ts).
import type { Redis } from "ioredis";
import { END_EVENT, type JournalEntry } from "./entry";
import type { JournalWriter } from "./journal-writer";
import { compareStreamIds } from "./stream-id";

/** What a {@link writeRun} run's subscriber must see, in order: `metadata`, `values` 0..n-1, `end`. */
export function expectedEvents(n: number): string[] {
  return ["metadata", ...Array.from({ length: n }, (_, i) => `values:${i}`), END_EVENT];
}

/** Flattens entries to `event` or `event:i` so a whole run compares in one `toEqual`. */
export function describeEntries(entries: JournalEntry[]): string[] {
  return entries.map((e) => {
    const data = JSON.parse(e.dataJson) as { i?: number } | null;
    return typeof data?.i === "number" ? `${e.event}:${data.i}` : e.event;
  });
}

/** Ids must strictly increase: proves "in order" and "no duplicate" independently of the payloads. */
export function strictlyIncreasing(entries: JournalEntry[]): boolean {
  return entries.every((e, k) => k === 0 || compareStreamIds(entries[k - 1]!.id, e.id) < 0);
}

/**
 * Writes a run like a worker does: `metadata`, `n` awaited `values` appends, then `end`. `at[i]` runs before
 * append `i`, so a test can start a subscriber at an exact point of the run instead of guessing with timers.
 */
export async function writeRun(
  writer: JournalWriter,
  runId: string,
  n: number,
  at: Record<number, () => unknown> = {},
): Promise<void> {
  await writer.append(runId, "metadata", { run_id: runId, attempt: 1 });
  for (let i = 0; i < n; i++) {
    await at[i]?.();
    await writer.append(runId, "values", { i });
  }
  await at[n]?.();
  await writer.end(runId, { status: "success" });
}

/** Drains an iterable; `stopAfter` ends early (like a client disconnecting) after that many entries. */
export async function collect(it: AsyncIterable<JournalEntry>, stopAfter = Infinity): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  if (stopAfter <= 0) return out;
  for await (const entry of it) {
    out.push(entry);
    if (out.length >= stopAfter) break;
  }
  return out;
}

/** Subscribers of one channel, as Redis counts them. */
export async function numSub(redis: Redis, channel: string): Promise<number> {
  const reply = (await redis.pubsub("NUMSUB", channel)) as [string, number];
  return Number(reply[1]);
}

/** `CLIENT LIST` lines of the connections named `name`. */
export async function clientsNamed(redis: Redis, name: string): Promise<Map<string, string>[]> {
  const list = (await redis.client("LIST")) as string;
  return list
    .split("\n")
    .filter(Boolean)
    .map((line) => new Map(line.split(" ").map((kv) => kv.split("=", 2) as [string, string])))
    .filter((fields) => fields.get("name") === name);
}
