/** Runline's logger is pino, set up in `@runline/observability` (JSON lines on stderr, secrets and payloads redacted). */
export { createLogger, errorFields, type Logger } from "@runline/observability";
