import { isTerminalRunStatus, Wakeup, type RunRecord, type StreamEventsBody } from "@runline/core";
import type { JournalEntry } from "@runline/journal";
import type { RunsService } from "../services/runs.service";
import { createEventFilter } from "./v2-filter";
import { RunTranslator } from "./v2-translator";
import { appliedThroughSeq, type V2Event } from "./v2-event";

/** Bounds of a thread's v2 event stream. */
export interface ThreadEventsOptions {
  /**
   * Most runs read per page of the runs table. A new connection replays from the thread's oldest unfinished run,
   * or only its latest run when all are finished (each from its first journal entry): older runs are in the
   * thread state (`GET /state`, `POST /history`), which is where the client hydrates from, and a replayed
   * terminal of a run before the client's own would settle its `submit()` at once. @defaultValue 16
   */
  runsPageSize?: number;
  /**
   * How often an idle connection re-reads the thread's runs even without an announcement (pub/sub is the fast
   * path, not the record). @defaultValue 5000
   */
  recheckMs?: number;
}

/**
 * The protocol v2 events of a thread, as SSE frames for `pipeSse`: the runs from the oldest unfinished one (or
 * the latest, when all are finished), each from its first journal entry, then every later run as it comes, forever (until `signal` aborts). Each run's journal goes
 * through its own {@link RunTranslator}; only what `body` selects is yielded. Live entries come through the
 * same subscription as classic streams (`subscribeRun`: the per-process journal hub, bounded buffers, and
 * backpressure from the socket, since nothing here reads ahead of what the writer takes).
 */
export async function* threadEvents(runs: RunsService, tenantId: string, threadId: string, body: StreamEventsBody, signal: AbortSignal, options: ThreadEventsOptions = {}): AsyncGenerator<JournalEntry> {
  const keep = createEventFilter(body);
  const recheckMs = options.recheckMs ?? 5000;
  // Woken by a run announced on the thread or by the client going away; a wake during a read is kept, so the
  // next park returns at once and reads again.
  const wakeup = new Wakeup();
  signal.addEventListener("abort", wakeup.wake);
  // Listen before the first read of the runs table: a run created after the read is announced to us.
  const unlisten = await runs.onThreadRun(tenantId, threadId, wakeup.wake);
  try {
    const pageSize = options.runsPageSize ?? 16;
    let lastSeq: number | null = null;
    let pending = await runs.threadRuns(tenantId, threadId, null, pageSize);
    for (;;) {
      if (signal.aborted) return;
      for (const run of pending) {
        lastSeq = run.thread_seq;
        // Every event of this run is at or below `since`: no need to read its journal at all.
        if (body.since !== undefined && appliedThroughSeq(run.thread_seq + 1) <= body.since) continue;
        const translator = new RunTranslator(run);
        for await (const event of runEvents(runs, run, translator, signal)) {
          if (keep(event)) yield toFrame(event);
        }
        // The run's journal subscription ended without its terminal (hub closed): end here, so the client
        // reconnects and replays, rather than skipping the rest of this run.
        if (signal.aborted || !translator.finished) return;
      }
      pending = await runs.threadRuns(tenantId, threadId, lastSeq ?? 0, pageSize);
      // Checked before `continue`: a client gone during the read must end the loop, or it would re-read forever
      // without yielding, and pipeSse's cleanup (heartbeat, listener, stream slot) would never run.
      if (signal.aborted) return;
      if (pending.length) continue;
      await wakeup.sleep(recheckMs);
      if (signal.aborted) return;
    }
  } finally {
    signal.removeEventListener("abort", wakeup.wake);
    unlisten();
  }
}

/** One run's v2 events, from its first journal entry to its terminal lifecycle. */
async function* runEvents(runs: RunsService, run: RunRecord, translator: RunTranslator, signal: AbortSignal): AsyncGenerator<V2Event> {
  // A run that ended long ago and has no `end` in its journal (expired) need not be waited for.
  const endedLongAgo = isTerminalRunStatus(run.status) && run.finished_at !== null && Date.now() - Date.parse(run.finished_at) > 10_000;
  for await (const entry of runs.subscribe(run, undefined, signal, { finishGraceMs: endedLongAgo ? 0 : undefined })) {
    yield* translator.translate(entry);
  }
  if (translator.finished || signal.aborted) return;
  const current = await runs.reread(run.run_id);
  if (current && isTerminalRunStatus(current.status)) yield* translator.finishWithoutEnd(current.status, current.error?.message);
}

function toFrame(event: V2Event): JournalEntry {
  return { id: event.event_id, event: event.method, dataJson: JSON.stringify(event) };
}
