import { Wakeup } from "@runline/core";
import type { Redis } from "ioredis";
import { END_EVENT, GAP_EVENT, type JournalEntry } from "./entry";
import { EntryQueue } from "./entry-queue";
import type { JournalHub } from "./journal-hub";
import { readRange } from "./journal-reader";
import { compareStreamIds, normaliseLastEventId } from "./stream-id";

/** Options of {@link subscribeRun}. */
export interface SubscribeRunOptions {
  /** Command connection for backlog reads (not the hub's subscriber connection). */
  redis: Redis;
  hub: JournalHub;
  /** Must be the hub's prefix. */
  prefix: string;
  runId: string;
  /** The client's `Last-Event-ID`; entries up to and including it are not yielded. Missing or `-1` = from the start. */
  lastEventId?: string;
  /** Ends the iteration (and removes the live listener) when aborted, e.g. on client disconnect. */
  signal?: AbortSignal;
  /**
   * Checked once after the first backlog read if no `end` was seen. A run that finished without a journal (or
   * whose journal expired) would otherwise be watched forever; when it says `true` the iteration ends after
   * `finishGraceMs` without an `end` entry, and the caller decides what to tell the client.
   */
  isFinished?: () => Promise<boolean>;
  /**
   * How long to keep listening for a late `end` once `isFinished` said the run is terminal (a worker that sets
   * the status before appending `end` is not cut off). @defaultValue 1000
   */
  finishGraceMs?: number;
  /**
   * Live entries held for a consumer that is slower than the run. Past this the buffer is dropped and the
   * subscriber catches up from the stream instead, so memory stays bounded; if the stream was trimmed past its
   * position meanwhile it gets a `gap` entry. @defaultValue 10_000
   */
  maxBuffered?: number;
  /** Backlog page size. @defaultValue 500 */
  pageSize?: number;
}

/**
 * Yields every journal entry of a run after `lastEventId`, exactly once and in order, ending after the terminal
 * `end` entry (which is yielded), when `signal` aborts, or when the hub closes (no `end`: the client reconnects
 * with its Last-Event-ID). Works the same whether it joins before the first
 * event, mid-run, or after the end: it subscribes first (buffering live entries), reads the stored backlog,
 * then switches to live entries and drops any id it already yielded. A `gap` entry (never stored) marks
 * entries lost to trimming.
 * @throws ValidationError synchronously when `lastEventId` is not a stream id, so the route can answer 400.
 */
export function subscribeRun(opts: SubscribeRunOptions): AsyncIterable<JournalEntry> {
  const after = normaliseLastEventId(opts.lastEventId);
  if (opts.hub.prefix !== opts.prefix) {
    throw new TypeError(`Journal hub prefix "${opts.hub.prefix}" does not match "${opts.prefix}"`);
  }
  return iterate(opts, after);
}

async function* iterate(opts: SubscribeRunOptions, after: string | undefined): AsyncGenerator<JournalEntry> {
  const { redis, hub, prefix, runId, signal, isFinished } = opts;
  const maxBuffered = opts.maxBuffered ?? 10_000;
  const pageSize = opts.pageSize ?? 500;
  if (signal?.aborted) return;

  const live = new EntryQueue();
  let lastId = after; // last id yielded (or resumed from); everything at or before it is a duplicate
  let backfill = true; // the stream holds entries the live buffer may not: read it after lastId
  const wakeup = new Wakeup();
  const wake = wakeup.wake;
  const sleep = () => wakeup.sleep(deadline === undefined ? undefined : deadline - Date.now());
  const onEntry = (entry: JournalEntry) => {
    if (live.size >= maxBuffered) {
      // Every dropped entry is in the stream (it was XADDed before it was published): re-read instead of growing.
      live.clear();
      backfill = true;
    }
    live.push(entry);
    heardLive = true;
    wake();
  };
  let hubClosed = false;
  let heardLive = false; // a live entry arrived: the run was writing after we subscribed, its `end` will come too
  let suspended = false; // the hub's connection dropped and has not resynced: live order has a hole
  const stopped = () => hubClosed || signal?.aborted === true;
  let finishChecked = !isFinished;
  let deadline: number | undefined;
  let unlisten: (() => void) | undefined;
  signal?.addEventListener("abort", wake);
  try {
    // Subscribe before reading: an entry appended after the ack is buffered, one appended before it is stored,
    // so backlog + buffer cover everything with no window in between.
    unlisten = await hub.listen(runId, onEntry, {
      onDisconnect: () => {
        // Hold live entries back until resynced: the stream read after the resync fills the hole first.
        suspended = true;
        backfill = true;
      },
      onResync: () => {
        suspended = false;
        backfill = true;
        wake();
      },
      onClosed: () => {
        hubClosed = true;
        wake();
      },
    });
    for (;;) {
      if (stopped()) return;
      if (suspended) {
        if (deadline !== undefined && Date.now() >= deadline) return;
        await sleep();
        continue;
      }
      if (backfill) {
        backfill = false;
        for await (const entry of readRange(redis, prefix, runId, lastId, { pageSize })) {
          if (stopped()) return;
          if (entry.event !== GAP_EVENT) lastId = entry.id;
          yield entry;
          if (entry.event === END_EVENT) return;
        }
      }
      // Live entries, including those that arrived during the backlog read (an `end` among them included).
      while (!backfill && !suspended) {
        const entry = live.shift();
        if (!entry) break;
        if (lastId !== undefined && compareStreamIds(entry.id, lastId) <= 0) continue;
        lastId = entry.id;
        yield entry;
        if (entry.event === END_EVENT || stopped()) return;
      }
      if (backfill) continue;
      if (!finishChecked) {
        finishChecked = true;
        // Only a silent run needs the check (one that finished without an `end`, or whose journal expired).
        if (!heardLive && (await isFinished!())) {
          deadline = Date.now() + (opts.finishGraceMs ?? 1000);
          backfill = true; // one more read catches an `end` appended since the first one
        }
        continue;
      }
      // Checked right before parking too: a stop or a spent grace period returns now, not after one more look.
      if (stopped() || (deadline !== undefined && Date.now() >= deadline)) return;
      await sleep();
    }
  } finally {
    signal?.removeEventListener("abort", wake);
    unlisten?.();
  }
}

