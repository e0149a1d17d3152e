/** @runline/journal: the run event journal (Redis Stream per run + live pub/sub) and resumable subscriptions to it. */
export { journalKeys, type JournalKeys } from "./keys";
export {
  baseEventName,
  END_EVENT,
  GAP_EVENT,
  parseEntryData,
  type JournalEntry,
  type JournalEvent,
  type JournalGap,
} from "./entry";
export { compareStreamIds, isStreamId, normaliseLastEventId } from "./stream-id";
export {
  createJournalWriter,
  JournalFencedError,
  type AttemptJournal,
  type JournalRefusal,
  type JournalWriter,
  type JournalWriterOptions,
} from "./journal-writer";
export { createJournalHub, type JournalHub, type JournalHubOptions, type ListenOptions } from "./journal-hub";
export { readRange, type ReadRangeOptions } from "./journal-reader";
export { subscribeRun, type SubscribeRunOptions } from "./subscribe-run";
export { auditJournal, type JournalAudit } from "./journal-audit";
export { announceThreadRun, listenThreadRuns } from "./thread-runs";
export { defineScript } from "./redis-script";
export * from "./redis-connection";
