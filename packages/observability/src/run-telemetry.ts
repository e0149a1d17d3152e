import { logSafeMessage } from "./log-safe-message";
import { errorFields, SILENT_LOGGER, type Logger } from "./logger";
import type { RunlineMetrics } from "./metrics";

/** What the worker knows about a run when it claims it (a subset of `RunRecord`). */
export interface ClaimedRun {
  run_id: string;
  thread_id: string;
  tenant_id: string;
  graph_id: string;
  attempt: number;
  created_at: string;
  started_at: string | null;
  kwargs: { after_seconds?: number };
}

/** How an attempt ended (a subset of the engine's `RunOutcome`). */
export interface AttemptOutcome {
  status: string;
  error?: { error: string; message: string } | null;
  partial?: { token_count?: number; action?: string } | null;
}

/** The worker's hook for logs and metrics: one {@link AttemptTelemetry} per claimed run attempt. */
export interface RunTelemetry {
  /** Called right after the worker claimed the run: logs "Run started", counts it active, observes the queue wait. */
  start(run: ClaimedRun, info: { takeover: boolean; jobId?: string }): AttemptTelemetry;
}

/** One run attempt's logger and measurements. `finished` or `failed` ends it; later calls are ignored. */
export interface AttemptTelemetry {
  /** The run's child logger (`runId`, `threadId`, `tenant`, `attempt`). */
  readonly logger: Logger;
  /** Every journal event the attempt appends: `messages` events are tokens (the first one is the time to first token). */
  appended(event: string): void;
  /** The terminal status was committed: logs "Run cancelled" (interrupted/timeout) and "Run finished". */
  finished(outcome: AttemptOutcome): void;
  /** The processor failed before a terminal status was committed. */
  failed(err: unknown): void;
}

/** Telemetry that records nothing (a worker built without it, as in unit tests). */
export const NOOP_ATTEMPT: AttemptTelemetry = { logger: SILENT_LOGGER, appended: () => undefined, finished: () => undefined, failed: () => undefined };
export const NOOP_RUN_TELEMETRY: RunTelemetry = { start: () => NOOP_ATTEMPT };

const since = (start: number) => (performance.now() - start) / 1000;

/** Builds the worker's run telemetry on this instance's metrics and logger. */
export function createRunTelemetry(metrics: RunlineMetrics, logger: Logger): RunTelemetry {
  return {
    start(run, { takeover, jobId }) {
      const startedAt = performance.now();
      const log = logger.child({ runId: run.run_id, threadId: run.thread_id, tenant: run.tenant_id, attempt: run.attempt, ...(jobId ? { jobId } : {}) });
      const queueMs = takeover ? null : queueWaitMs(run);
      if (queueMs !== null) metrics.queueWait.observe(queueMs / 1000);
      metrics.runsActive.inc();
      log.info("Run started", { graphId: run.graph_id, takeover, ...(queueMs !== null ? { queueMs: Math.round(queueMs) } : {}) });
      let tokens = 0;
      let firstTokenMs: number | null = null;
      let ended = false;
      const end = () => {
        if (ended) return false;
        ended = true;
        metrics.runsActive.dec();
        return true;
      };
      return {
        logger: log,
        appended(event) {
          if (event !== "messages" && !event.startsWith("messages|")) return;
          tokens++;
          metrics.tokensStreamed.inc();
          if (firstTokenMs === null) {
            firstTokenMs = performance.now() - startedAt;
            metrics.timeToFirstToken.observe(firstTokenMs / 1000);
          }
        },
        finished(outcome) {
          if (!end()) return;
          const seconds = since(startedAt);
          metrics.runDuration.observe({ status: outcome.status }, seconds);
          const durationMs = Math.round(seconds * 1000);
          const ttftMs = firstTokenMs === null ? undefined : Math.round(firstTokenMs);
          if (outcome.status === "interrupted" || outcome.status === "timeout") {
            log.info("Run cancelled", {
              status: outcome.status,
              action: outcome.partial?.action ?? "interrupt",
              reason: outcome.status === "timeout" ? "timeout" : "cancel",
              partialTokens: outcome.partial?.token_count ?? 0,
            });
          }
          if (outcome.status === "error") {
            // The graph's own failure (a node threw, the provider refused): the run is recorded as `error`.
            log.warn("Run finished", { status: outcome.status, tokens, durationMs, ttftMs, error: outcome.error?.error, errorMessage: logSafeMessage(outcome.error?.message) });
          } else {
            log.info("Run finished", { status: outcome.status, tokens, durationMs, ttftMs });
          }
        },
        failed(err) {
          if (!end()) return;
          log.error("Run processing failed", { tokens, durationMs: Math.round(since(startedAt) * 1000), ...errorFields(err) });
        },
      };
    },
  };
}

/** Created (plus `after_seconds`) → claimed, both from Postgres's clock; null when unknown. */
function queueWaitMs(run: ClaimedRun): number | null {
  if (!run.started_at) return null;
  const created = Date.parse(run.created_at) + (run.kwargs.after_seconds ?? 0) * 1000;
  const started = Date.parse(run.started_at);
  if (Number.isNaN(created) || Number.isNaN(started)) return null;
  return Math.max(0, started - created);
}
