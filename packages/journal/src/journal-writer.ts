import type { Redis } from "ioredis";
import { END_EVENT, GAP_EVENT } from "./entry";
import { journalKeys } from "./keys";

/** Options of {@link createJournalWriter}. */
export interface JournalWriterOptions {
  /**
   * Approximate cap on a run's stream length (`XADD MAXLEN ~`). Past it the oldest entries are trimmed: a
   * subscriber that resumes from, or falls behind to, a trimmed id gets a `gap` entry instead of a silent hole.
   * @defaultValue 100_000
   */
  maxLen?: number;
  /** Seconds the stream is kept after `end`, for late joiners and reconnects. @defaultValue 3600 */
  retentionSeconds?: number;
}

/** Appends a run's events to its journal (worker side). */
export interface JournalWriter {
  /**
   * Appends one event: `XADD` to the run's stream and `PUBLISH` to its live channel in one round trip (one Lua
   * script, so live and stored order are the same). Callers may fire appends without awaiting each one: they go
   * out in call order on one connection. The returned promise resolves to the entry id; a failure is also kept
   * for the next {@link JournalWriter.flush}, so an un-awaited append cannot fail unnoticed.
   * @throws TypeError synchronously for an invalid event name or data `JSON.stringify` cannot encode.
   */
  append(runId: string, event: string, data: unknown): Promise<string>;
  /**
   * Appends the terminal `end` event and sets the stream's expiry in the same script, then waits for every
   * earlier append of the run. Rejects if any of them failed (the `end` itself is still written).
   */
  end(runId: string, data?: unknown): Promise<string>;
  /** Waits until every append issued so far for `runId` has settled; rejects with the first failure since the last flush. */
  flush(runId: string): Promise<void>;
}

// XADD and PUBLISH in one script: one round trip per event, and no window where an entry is stored but not
// published (a crash between two separate calls would leave live subscribers a gap until they reconnect).
const APPEND_LUA = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[3], 'd', ARGV[4])
redis.call('PUBLISH', ARGV[2], id .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[4])
local ttl = tonumber(ARGV[5])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return id
`;
const APPEND_COMMAND = "runlineJournalAppend";

type AppendCommand = (
  streamKey: string,
  maxLen: number,
  liveChannel: string,
  event: string,
  json: string,
  ttlSeconds: number,
) => Promise<string>;

/** Creates the journal writer on `redis` (a normal command connection; it may be shared). */
export function createJournalWriter(redis: Redis, prefix: string, opts: JournalWriterOptions = {}): JournalWriter {
  const maxLen = positiveInt(opts.maxLen ?? 100_000, "maxLen");
  const retentionSeconds = positiveInt(opts.retentionSeconds ?? 3600, "retentionSeconds");
  const keys = journalKeys(prefix);
  // defineCommand sends EVAL the first time per socket and EVALSHA after, so even the first burst of
  // un-awaited appends keeps its order (no NOSCRIPT retry overtaking later commands).
  redis.defineCommand(APPEND_COMMAND, { numberOfKeys: 1, lua: APPEND_LUA });
  const command = (redis as unknown as Record<string, AppendCommand>)[APPEND_COMMAND]!.bind(redis);
  const tails = new Map<string, Promise<string>>();
  const failures = new Map<string, unknown>();

  function send(runId: string, event: string, data: unknown, ttlSeconds: number): Promise<string> {
    checkEventName(event);
    const json = encode(data);
    const pending = command(keys.events(runId), maxLen, keys.live(runId), event, json, ttlSeconds);
    tails.set(runId, pending);
    const settle = () => {
      if (tails.get(runId) === pending) tails.delete(runId);
    };
    // Attaching a handler here also keeps a fire-and-forget append from becoming an unhandled rejection.
    pending.then(settle, (err: unknown) => {
      if (!failures.has(runId)) failures.set(runId, err);
      settle();
    });
    return pending;
  }

  async function flush(runId: string): Promise<void> {
    // Replies on one connection arrive in command order, so once the last append settled all earlier ones have.
    await tails.get(runId)?.catch(() => undefined);
    if (failures.has(runId)) {
      const err = failures.get(runId);
      failures.delete(runId);
      throw err;
    }
  }

  return {
    append: (runId, event, data) => send(runId, event, data, 0),
    async end(runId, data = null) {
      const id = send(runId, END_EVENT, data, retentionSeconds);
      await flush(runId);
      return id;
    },
    flush,
  };
}

function checkEventName(event: string): void {
  // A newline would break the live message framing; `gap` is reserved for readers.
  if (!event || event.includes("\n") || event === GAP_EVENT) {
    throw new TypeError(`Invalid journal event name ${JSON.stringify(event)}`);
  }
}

function encode(data: unknown): string {
  if (data === undefined) return "null";
  const json = JSON.stringify(data);
  if (json === undefined) throw new TypeError("Journal event data must be JSON-serialisable");
  return json;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
