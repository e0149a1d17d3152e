import { encodeEventData } from "@runline/core";
import type { Redis } from "ioredis";
import { END_EVENT, GAP_EVENT } from "./entry";
import { createAttemptJournal } from "./attempt-journal";
import { JournalFencedError, type AttemptJournal, type JournalRefusal } from "./journal-fence";

export { JournalFencedError, type AttemptJournal, type JournalRefusal };
import { journalKeys } from "./keys";
import { ScriptBatcher, type ScriptBatchOptions, type ScriptItem } from "./journal-batch";

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
  /** How appends of one event-loop turn are coalesced into one script call (see {@link ScriptBatchOptions}). */
  batch?: ScriptBatchOptions;
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

/** Creates the journal writer on `redis` (a normal command connection; it may be shared). */
export function createJournalWriter(redis: Redis, prefix: string, opts: JournalWriterOptions = {}): JournalWriter {
  const maxLen = positiveInt(opts.maxLen ?? 100_000, "maxLen");
  const retentionSeconds = positiveInt(opts.retentionSeconds ?? 3600, "retentionSeconds");
  const keys = journalKeys(prefix);
  // Every script call of one event-loop turn (all runs, all attempts) goes out as one script call.
  const batcher = new ScriptBatcher(redis, maxLen, opts.batch);
  // What `flush` waits for and reports: one per run for plain appends, one per attempt for an attempt's own,
  // so a superseded attempt's refused writes are never reported to the attempt that superseded it.
  const runSinks = new Map<string, FailureSink>();
  const runSink = (runId: string) => {
    let sink = runSinks.get(runId);
    if (!sink) runSinks.set(runId, (sink = new FailureSink(() => runSinks.delete(runId))));
    return sink;
  };

  const item = (runId: string, event: string, json: string, attempt: number, seq: number, mode: "0" | "1" | "2"): ScriptItem => ({
    streamKey: keys.events(runId),
    fenceKey: keys.fence(runId),
    liveChannel: keys.live(runId),
    event,
    json,
    ttlSeconds: mode === "1" ? retentionSeconds : 0,
    attempt,
    seq,
    mode,
  });
  const send = (runId: string, event: string, json: string, attempt: number, seq: number, mode: "0" | "1" | "2") =>
    batcher.send(item(runId, event, json, attempt, seq, mode));
  const encodeEvent = (event: string, data: unknown) => {
    checkEventName(event);
    return encodeEventData(data);
  };

  return {
    append(runId, event, data) {
      const appended = send(runId, event, encodeEvent(event, data), 0, 0, "0").then(([status, id]) => {
        if (status === "ENDED") throw new JournalFencedError(runId, "ended");
        return id ?? "";
      });
      runSink(runId).track(appended);
      return appended;
    },
    forAttempt(runId, attempt, onRefused) {
      if (!Number.isInteger(attempt) || attempt <= 0) throw new TypeError(`attempt must be a positive integer, got ${attempt}`);
      return createAttemptJournal({
        runId,
        attempt,
        onRefused,
        send: (event, json, seq, mode, done) => {
          checkEventName(event);
          batcher.enqueue(item(runId, event, json, attempt, seq, mode), done);
        },
      });
    },
    async end(runId, data = null) {
      const reply = send(runId, END_EVENT, encodeEvent(END_EVENT, data), 0, 0, "1");
      // Replies come back in call order (one connection, items of a batch settled in order): once this one is
      // back, every earlier append is too.
      const [status, id] = await reply;
      await runSinks.get(runId)?.flush();
      return status === "OK" ? id! : null;
    },
    flush: async (runId) => runSinks.get(runId)?.flush(),
  };
}

/**
 * The appends of one writer (a run's plain appends, or one attempt's): `flush` waits for the last and reports
 * the first failure since the previous flush. Appends are often fired without awaiting, so tracking also keeps
 * a failure from becoming an unhandled rejection.
 */
class FailureSink {
  private tail: Promise<unknown> | null = null;
  private failure: { error: unknown } | null = null;

  constructor(private readonly onIdle?: () => void) {}

  track(appended: Promise<unknown>): void {
    this.tail = appended;
    appended.then(
      () => this.settled(appended),
      (error) => {
        this.failure ??= { error };
        this.settled(appended);
      },
    );
  }

  async flush(): Promise<void> {
    // Replies on one connection arrive in command order, so once the last append settled all earlier ones have.
    await this.tail?.catch(() => undefined);
    const failure = this.failure;
    this.failure = null;
    if (failure) throw failure.error;
  }

  private settled(appended: Promise<unknown>): void {
    if (this.tail === appended && !this.failure) {
      this.tail = null;
      this.onIdle?.();
    }
  }
}

function checkEventName(event: string): void {
  // A newline would break the live message framing; `gap` is reserved for readers.
  if (!event || event.includes("\n") || event === GAP_EVENT) {
    throw new TypeError(`Invalid journal event name ${JSON.stringify(event)}`);
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
