import { baseEventName, type JournalWriter } from "@runline/journal";
import type { RunlineMetrics } from "./metrics";

/** Options of {@link observeJournal}. */
export interface ObserveJournalOptions {
  /** Entries in a run's journal (`XLEN`); observed once per run, after its terminal event. Omit to skip. */
  sizeOf?: (runId: string) => Promise<number>;
}

/**
 * Wraps a journal writer to count appends by event and, at each run's terminal `end` event, the run's final
 * status (`runline_runs_finished_total`) and its journal size. Every run end goes through that event, in
 * whichever process finishes the run (a worker, or the API cancelling a queued run), so this is the one place
 * that sees them all exactly once.
 */
export function observeJournal(writer: JournalWriter, metrics: RunlineMetrics, options: ObserveJournalOptions = {}): JournalWriter {
  // One counter child per event name, bound on first use: a token costs a map lookup, not a label object.
  const appendCounters = new Map<string, { inc(): void }>();
  const countAppend = (event: string) => {
    const name = baseEvent(event);
    let counter = appendCounters.get(name);
    if (!counter) appendCounters.set(name, (counter = metrics.journalAppends.labels(name)));
    counter.inc();
  };
  return {
    append(runId, event, data) {
      countAppend(event);
      return writer.append(runId, event, data);
    },
    forAttempt(runId, attempt, onRefused) {
      const journal = writer.forAttempt(runId, attempt, onRefused);
      return {
        runId,
        attempt,
        claim: () => journal.claim(),
        append(event, data) {
          countAppend(event);
          return journal.append(event, data);
        },
        push(event, data) {
          countAppend(event);
          journal.push(event, data);
        },
        flush: () => journal.flush(),
        get bytesAppended() {
          return journal.bytesAppended;
        },
      };
    },
    async end(runId, data) {
      const id = await writer.end(runId, data);
      // Counted only for the call that wrote the `end`: the worker, the API and the reconciler may all try.
      if (id === null) return id;
      countAppend("end");
      const status = (data as { status?: unknown } | null | undefined)?.status;
      if (typeof status === "string") metrics.runsFinished.inc({ status });
      if (options.sizeOf) {
        // Off the run's path: the size is for dashboards, the cancel and the next run need not wait for it.
        options.sizeOf(runId).then((n) => metrics.journalEntriesPerRun.observe(n), () => undefined);
      }
      return id;
    },
    flush: (runId) => writer.flush(runId),
  };
}

/** `messages|subgraph:…` → `messages`: the namespace would make the label unbounded. */
function baseEvent(event: string): string {
  return baseEventName(event) || "unknown";
}
