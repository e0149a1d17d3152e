import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { withTimeout } from "@runline/core";

/** Buckets (seconds) for things that should take milliseconds: time to first token, cancel latency, queue wait. */
export const FAST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Buckets (seconds) for whole runs and long HTTP responses (SSE streams). */
export const SLOW_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
/** Buckets for the number of journal entries a run ended with. */
export const JOURNAL_SIZE_BUCKETS = [10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 50_000, 100_000];

/** The dependencies whose connection errors are counted. */
export type Dependency = "redis" | "postgres";

/**
 * Every Runline metric, on a registry of its own (never prom-client's global one), so several Runline instances in
 * one process (the tests) keep separate counts. Names follow Prometheus conventions: base units (seconds),
 * `_total` for counters.
 */
export interface RunlineMetrics {
  readonly registry: Registry;
  /** Runs that reached a terminal status, by status (counted where the run's terminal event is written). */
  readonly runsFinished: Counter<"status">;
  /** Runs a worker of this process is executing now. */
  readonly runsActive: Gauge;
  /** Run created (plus its `after_seconds`) → a worker claimed it; first attempts only. */
  readonly queueWait: Histogram;
  /** Worker claimed the run → first message token appended to the journal. */
  readonly timeToFirstToken: Histogram;
  /** Worker claimed the run → terminal status committed, by status. */
  readonly runDuration: Histogram<"status">;
  /** Message chunks (tokens) the workers of this process streamed into run journals. */
  readonly tokensStreamed: Counter;
  /** Cancel requests handled by this API, by action and outcome (`cancelled`, `requested`, `already_finished`). */
  readonly cancels: Counter<"action" | "outcome">;
  /** `wait=1` cancel: request → partial output committed and the run ended, by action. */
  readonly cancelLatency: Histogram<"action">;
  /** Open SSE responses of this API. */
  readonly sseSubscribers: Gauge;
  /** Journal appends by event name (`messages`, `values`, `updates`, `metadata`, `end`, …). */
  readonly journalAppends: Counter<"event">;
  /** Entries a run's journal held when it ended (`XLEN`, one O(1) call per run). */
  readonly journalEntriesPerRun: Histogram;
  /** Connection errors to Redis and Postgres, by dependency. */
  readonly dependencyErrors: Counter<"dependency">;
  /** Runs the reconciler moved on after a lost step, by repair (`announced`, `requeued_pending`, …). */
  readonly reconciled: Counter<"action">;
  /** Transient Postgres/Redis failures retried by a run transition or checkpoint write, by operation. */
  readonly retries: Counter<"operation">;
  /** HTTP responses by method, route pattern and status. */
  readonly httpRequests: Counter<"method" | "route" | "status">;
  /** HTTP request → response finished (SSE: until the stream closed), by method and route pattern. */
  readonly httpDuration: Histogram<"method" | "route">;
  /** Supplies `runline_queue_jobs{state}` at scrape time (set by the composition root once the queue exists). */
  setQueueCounts(source: () => Promise<Record<string, number>>): void;
  /** The registry in Prometheus text format. */
  render(): Promise<string>;
  readonly contentType: string;
}

/** Longest a scrape waits for the queue's job counts before leaving them out. */
const QUEUE_COUNTS_TIMEOUT_MS = 1000;

/** Creates the metrics of one Runline instance, with Node's process metrics (`collectDefaultMetrics`) on the same registry. */
export function createRunlineMetrics(options: { version?: string } = {}): RunlineMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let queueCounts: (() => Promise<Record<string, number>>) | null = null;

  new Gauge({ name: "runline_build_info", help: "Runline version (always 1)", labelNames: ["version"], registers }).set({ version: options.version ?? "unknown" }, 1);
  new Gauge({
    name: "runline_queue_jobs",
    help: "BullMQ run jobs by state, read at scrape time",
    labelNames: ["state"],
    registers,
    async collect() {
      this.reset();
      if (!queueCounts) return;
      const counts = await withTimeout(queueCounts(), QUEUE_COUNTS_TIMEOUT_MS).catch(() => null);
      for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
    },
  });

  return {
    registry,
    runsFinished: new Counter({ name: "runline_runs_finished_total", help: "Runs that reached a terminal status", labelNames: ["status"], registers }),
    runsActive: new Gauge({ name: "runline_runs_active", help: "Runs being executed by this process's workers", registers }),
    queueWait: new Histogram({ name: "runline_run_queue_wait_seconds", help: "Run created (after its after_seconds delay) to claimed by a worker", buckets: FAST_BUCKETS, registers }),
    timeToFirstToken: new Histogram({ name: "runline_run_time_to_first_token_seconds", help: "Worker claimed the run to its first message token", buckets: FAST_BUCKETS, registers }),
    runDuration: new Histogram({ name: "runline_run_duration_seconds", help: "Worker claimed the run to its terminal status committed", labelNames: ["status"], buckets: SLOW_BUCKETS, registers }),
    tokensStreamed: new Counter({ name: "runline_tokens_streamed_total", help: "Message chunks (tokens) streamed by runs", registers }),
    cancels: new Counter({ name: "runline_cancels_total", help: "Cancel requests by action and outcome", labelNames: ["action", "outcome"], registers }),
    cancelLatency: new Histogram({ name: "runline_cancel_latency_seconds", help: "wait=1 cancel: request to partial output committed", labelNames: ["action"], buckets: FAST_BUCKETS, registers }),
    sseSubscribers: new Gauge({ name: "runline_sse_subscribers", help: "Open SSE streams", registers }),
    journalAppends: new Counter({ name: "runline_journal_appends_total", help: "Run journal appends by event", labelNames: ["event"], registers }),
    journalEntriesPerRun: new Histogram({ name: "runline_journal_entries_per_run", help: "Journal entries of a run when it ended", buckets: JOURNAL_SIZE_BUCKETS, registers }),
    dependencyErrors: new Counter({ name: "runline_dependency_errors_total", help: "Connection errors to Redis and Postgres", labelNames: ["dependency"], registers }),
    reconciled: new Counter({ name: "runline_reconciled_total", help: "Runs the reconciler moved on after a lost step, by repair", labelNames: ["action"], registers }),
    retries: new Counter({ name: "runline_transient_retries_total", help: "Transient dependency failures retried, by operation", labelNames: ["operation"], registers }),
    httpRequests: new Counter({ name: "runline_http_requests_total", help: "HTTP responses by method, route and status", labelNames: ["method", "route", "status"], registers }),
    httpDuration: new Histogram({ name: "runline_http_request_duration_seconds", help: "HTTP request to response end", labelNames: ["method", "route"], buckets: SLOW_BUCKETS, registers }),
    setQueueCounts(source) {
      queueCounts = source;
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/** The API's cancel hook on these metrics: `runline_cancels_total{action,outcome}` and, for `wait=1`, the latency. */
export function cancelMetrics(metrics: RunlineMetrics) {
  return {
    cancelRecorded(action: string, outcome: string, waitedMs: number | null): void {
      metrics.cancels.inc({ action, outcome });
      if (waitedMs !== null) metrics.cancelLatency.observe({ action }, waitedMs / 1000);
    },
  };
}
