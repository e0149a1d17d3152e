/** Runline's logger is pino, set up in `@runline/observability` (JSON lines on stderr, secrets and payloads redacted). */
// The logger alone (not the package index, which loads bull-board and prom-client): a cluster's primary needs no more.
export { createLogger, errorFields, type Logger, type LogLevel } from "@runline/observability/logger";
