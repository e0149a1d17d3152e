/**
 * Short locks, stall checks, reconciler passes and control polls for fault tests and `npm run chaos`, so a
 * lost step is repaired in seconds, not a minute.
 */
export const FAST_RECOVERY: Readonly<Record<string, string>> = Object.freeze({
  RUNLINE_LOCK_DURATION_MS: "1500",
  RUNLINE_STALLED_INTERVAL_MS: "500",
  RUNLINE_RECONCILE_INTERVAL_MS: "300",
  RUNLINE_RECONCILE_GRACE_MS: "1000",
  RUNLINE_CONTROL_POLL_MS: "300",
});
