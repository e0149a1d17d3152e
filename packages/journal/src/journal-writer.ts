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

/** Why the journal refused a write. */
export type JournalRefusal =
  /** A later attempt of the run owns the journal now: this attempt was superseded and must stop. */
  | "superseded"
  /** The run's `end` is already written: nothing may follow it. */
  | "ended";

/** A write the journal's fence refused (see {@link JournalRefusal}). */
export class JournalFencedError extends Error {
  constructor(
    readonly runId: string,
    readonly refusal: JournalRefusal,
  ) {
    super(refusal === "ended" ? `run ${runId} already ended` : `run ${runId} belongs to a later attempt`);
    this.name = "JournalFencedError";
  }
}

/** The journal as one attempt of a run sees it: every append carries the attempt and a sequence number. */
export interface AttemptJournal {
  readonly runId: string;
  readonly attempt: number;
  /**
   * Appends one event (see {@link JournalWriter.append}). The fence refuses it once a later attempt wrote to
   * the journal or the run ended (the promise rejects with {@link JournalFencedError}, and `onRefused` runs
   * once). A retransmission of the same append (ioredis re-sends commands whose reply was lost) is dropped.
   */
  append(event: string, data: unknown): Promise<string>;
  /** Waits for every append of this attempt so far; rejects with the first failure since the last flush. */
  flush(): Promise<void>;
}

/** Appends a run's events to its journal (worker side). */
export interface JournalWriter {
  /**
   * Appends one event: `XADD` to the run's stream and `PUBLISH` to its live channel in one round trip (one Lua
   * script, so live and stored order are the same). Callers may fire appends without awaiting each one: they go
   * out in call order on one connection. The returned promise resolves to the entry id; a failure is also kept
   * for the next {@link JournalWriter.flush}, so an un-awaited append cannot fail unnoticed. Not tied to an
   * attempt (tests and tools); a run's own events go through {@link JournalWriter.forAttempt}. Refused after `end`.
   * @throws TypeError synchronously for an invalid event name or data `JSON.stringify` cannot encode.
   */
  append(runId: string, event: string, data: unknown): Promise<string>;
  /** The fenced journal of one attempt; `onRefused` is told (once) when the fence refuses a write. */
  forAttempt(runId: string, attempt: number, onRefused?: (refusal: JournalRefusal) => void): AttemptJournal;
  /**
   * Appends the terminal `end` event, marks the run ended and sets the stream's expiry, all in one script,
   * then waits for every earlier append of the run. Idempotent: a run gets one `end`, whoever calls this first
   * (its worker, the API, the reconciler); later calls resolve to null. Rejects if an earlier append failed.
   */
  end(runId: string, data?: unknown): Promise<string | null>;
  /** Waits until every append issued so far for `runId` has settled; rejects with the first failure since the last flush. */
  flush(runId: string): Promise<void>;
}

// Fence check, XADD and PUBLISH in one script: one round trip per event, no window where an entry is stored but
// not published, and no way for a superseded attempt to slip an entry in between the check and the write.
// ARGV: maxLen, channel, event, json, ttl, attempt (0 = not an attempt), seq, isEnd.
const APPEND_LUA = `
local f = redis.call('HMGET', KEYS[2], 'a', 's', 'e')
if f[3] then return {'ENDED'} end
local attempt = tonumber(ARGV[6])
if attempt > 0 then
  local owner = tonumber(f[1]) or 0
  if owner > attempt then return {'FENCED'} end
  local seq = tonumber(ARGV[7])
  if owner == attempt and (tonumber(f[2]) or 0) >= seq then return {'DUP'} end
  redis.call('HSET', KEYS[2], 'a', attempt, 's', seq)
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[3], 'd', ARGV[4])
redis.call('PUBLISH', ARGV[2], id .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[4])
if ARGV[8] == '1' then
  redis.call('HSET', KEYS[2], 'e', 1)
  local ttl = tonumber(ARGV[5])
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
return {'OK', id}
`;
const APPEND_COMMAND = "runlineJournalAppend";

type AppendCommand = (
  streamKey: string,
  fenceKey: string,
  maxLen: number,
  liveChannel: string,
  event: string,
  json: string,
  ttlSeconds: number,
  attempt: number,
  seq: number,
  isEnd: "0" | "1",
) => Promise<[string, string?]>;

/** Creates the journal writer on `redis` (a normal command connection; it may be shared). */
export function createJournalWriter(redis: Redis, prefix: string, opts: JournalWriterOptions = {}): JournalWriter {
  const maxLen = positiveInt(opts.maxLen ?? 100_000, "maxLen");
  const retentionSeconds = positiveInt(opts.retentionSeconds ?? 3600, "retentionSeconds");
  const keys = journalKeys(prefix);
  // defineCommand sends EVAL the first time per socket and EVALSHA after, so even the first burst of
  // un-awaited appends keeps its order (no NOSCRIPT retry overtaking later commands).
  redis.defineCommand(APPEND_COMMAND, { numberOfKeys: 2, lua: APPEND_LUA });
  const command = (redis as unknown as Record<string, AppendCommand>)[APPEND_COMMAND]!.bind(redis);
  const tails = new Map<string, Promise<unknown>>();
  const failures = new Map<string, unknown>();

  function send(runId: string, event: string, data: unknown, fence: { attempt: number; seq: number } | null, isEnd: boolean) {
    checkEventName(event);
    const json = encode(data);
    const pending = command(
      keys.events(runId),
      keys.fence(runId),
      maxLen,
      keys.live(runId),
      event,
      json,
      isEnd ? retentionSeconds : 0,
      fence?.attempt ?? 0,
      fence?.seq ?? 0,
      isEnd ? "1" : "0",
    );
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
    append(runId, event, data) {
      const appended = send(runId, event, data, null, false).then(([status, id]) => {
        if (status === "ENDED") throw new JournalFencedError(runId, "ended");
        return id ?? "";
      });
      appended.catch(() => undefined); // fire-and-forget callers learn of failures at flush
      return appended;
    },
    forAttempt(runId, attempt, onRefused) {
      if (!Number.isInteger(attempt) || attempt <= 0) throw new TypeError(`attempt must be a positive integer, got ${attempt}`);
      let seq = 0;
      let refused = false;
      const refuse = (refusal: JournalRefusal) => {
        if (!refused) {
          refused = true;
          onRefused?.(refusal);
        }
        throw new JournalFencedError(runId, refusal);
      };
      return {
        runId,
        attempt,
        append(event, data) {
          const reply = send(runId, event, data, { attempt, seq: ++seq }, false);
          const appended = reply.then(([status, id]) => {
            if (status === "ENDED") return refuse("ended");
            if (status === "FENCED") return refuse("superseded");
            return id ?? "";
          });
          // Most appends are fired without awaiting: a refusal must not become an unhandled rejection (the
          // attempt learns of it through `onRefused`, and `flush` reports it).
          appended.catch((err) => {
            if (!failures.has(runId)) failures.set(runId, err);
          });
          return appended;
        },
        flush: () => flush(runId),
      };
    },
    async end(runId, data = null) {
      const reply = send(runId, END_EVENT, data, null, true);
      await flush(runId);
      const [status, id] = await reply;
      return status === "OK" ? id! : null;
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
