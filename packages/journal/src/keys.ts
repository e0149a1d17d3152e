/** Redis key and channel names of the run event journal. */
export interface JournalKeys {
  /** The run's Redis Stream: every event, in order, bounded in length, expired after the run ends. */
  events(runId: string): string;
  /** The run's pub/sub channel: the same entries, for live delivery. */
  live(runId: string): string;
  /**
   * The run's fence (a hash: `a` the attempt that owns the journal, `s` its last sequence number, `e` set once
   * `end` was written). Every append is checked against it in the same script that writes the entry.
   */
  fence(runId: string): string;
}

/**
 * The only place that builds journal key names, so a test namespace (`prefix`) covers every key the journal
 * touches and cleanup by `prefix:*` finds them all. The run id is a Redis Cluster hash tag (`{…}`): a run's
 * stream, fence and channel share one slot, as the append script (stream + fence in one call) needs, while
 * different runs spread over every shard.
 */
export function journalKeys(prefix: string): JournalKeys {
  return {
    events: (runId) => `${prefix}:run:{${runId}}:events`,
    live: (runId) => `${prefix}:run:{${runId}}:live`,
    fence: (runId) => `${prefix}:run:{${runId}}:fence`,
  };
}
