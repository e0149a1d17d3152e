/** @runline/observability: Runline's logger (pino), metrics (prom-client, one registry per instance), health checks and the queue dashboard. */
export { createLogger, errorFields, REDACTED_FIELDS, SILENT_LOGGER, type CreateLoggerOptions, type Logger, type LogLevel } from "./logger";
export { cancelMetrics, createRunlineMetrics, FAST_BUCKETS, JOURNAL_SIZE_BUCKETS, SLOW_BUCKETS, type Dependency, type RunlineMetrics } from "./metrics";
export {
  createRunTelemetry,
  NOOP_ATTEMPT,
  NOOP_RUN_TELEMETRY,
  type AttemptOutcome,
  type AttemptTelemetry,
  type ClaimedRun,
  type RunTelemetry,
} from "./run-telemetry";
export { observeJournal, type ObserveJournalOptions } from "./journal-metrics";
export { createHealthChecks, queueJobCounts, watchPool, watchRedis, type HealthCheck } from "./dependencies";
export { observeRequests, type ObserveRequestsOptions } from "./http";
export { createQueueDashboard, type QueueDashboardOptions } from "./queue-dashboard";
export { adminKeyMatches, readAdminKey } from "./admin-key";
export { logSafeMessage } from "./log-safe-message";
