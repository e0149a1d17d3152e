import { createLogger } from "./logger";
import { cancelMetrics, createRunlineMetrics } from "./metrics";
import { createRunTelemetry } from "./run-telemetry";
import { adminKeyMatches, readAdminKey } from "./admin-key";

const run = {
  run_id: "run-1",
  thread_id: "thread-1",
  tenant_id: "acme",
  graph_id: "story",
  attempt: 1,
  created_at: "2026-01-01T00:00:00.000Z",
  started_at: "2026-01-01T00:00:02.500Z",
  kwargs: { after_seconds: 2 },
};

async function value(metrics: ReturnType<typeof createRunlineMetrics>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name.replace(/_(count|sum)$/, ""));
  const suffix = name.match(/_(count|sum)$/)?.[0];
  const values = (metric?.values ?? []) as Array<{ metricName?: string; labels: Record<string, unknown>; value: number }>;
  return values
    .filter((v) => (suffix ? v.metricName === name : !v.metricName || v.metricName === name))
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

describe("run telemetry", () => {
  const silent = createLogger("test", "silent");

  it("counts tokens, the first token once, the queue wait net of after_seconds, and the run while it is active", async () => {
    const metrics = createRunlineMetrics();
    const attempt = createRunTelemetry(metrics, silent).start(run, { takeover: false });
    expect(await value(metrics, "runline_runs_active")).toBe(1);
    for (const event of ["metadata", "messages", "values", "messages", "messages|sub:1", "updates"]) attempt.appended(event);
    expect(await value(metrics, "runline_tokens_streamed_total")).toBe(3);
    expect(await value(metrics, "runline_run_time_to_first_token_seconds_count")).toBe(1);
    expect(await value(metrics, "runline_run_queue_wait_seconds_sum")).toBeCloseTo(0.5);
    attempt.finished({ status: "interrupted", partial: { token_count: 3, action: "interrupt" } });
    attempt.finished({ status: "success" });
    attempt.failed(new Error("late"));
    expect(await value(metrics, "runline_runs_active")).toBe(0);
    expect(await value(metrics, "runline_run_duration_seconds_count", { status: "interrupted" })).toBe(1);
    expect(await value(metrics, "runline_run_duration_seconds_count")).toBe(1);
  });

  it("a takeover does not observe a queue wait", async () => {
    const metrics = createRunlineMetrics();
    createRunTelemetry(metrics, silent).start({ ...run, attempt: 2 }, { takeover: true }).failed(new Error("boom"));
    expect(await value(metrics, "runline_run_queue_wait_seconds_count")).toBe(0);
    expect(await value(metrics, "runline_runs_active")).toBe(0);
  });

  it("cancel metrics: every cancel counted, latency only when waited for", async () => {
    const metrics = createRunlineMetrics();
    const hook = cancelMetrics(metrics);
    hook.cancelRecorded("interrupt", "cancelled", 42);
    hook.cancelRecorded("rollback", "requested", null);
    expect(await value(metrics, "runline_cancels_total", { action: "interrupt", outcome: "cancelled" })).toBe(1);
    expect(await value(metrics, "runline_cancels_total")).toBe(2);
    expect(await value(metrics, "runline_cancel_latency_seconds_count")).toBe(1);
    expect(await value(metrics, "runline_cancel_latency_seconds_sum")).toBeCloseTo(0.042);
  });
});

describe("admin key", () => {
  const headers = (h: Record<string, string>) => ({ get: (name: string) => h[name] });

  it("is read from x-admin-key, a Bearer token, or a Basic password", () => {
    expect(readAdminKey(headers({ "x-admin-key": "k1" }))).toBe("k1");
    expect(readAdminKey(headers({ authorization: "Bearer k2" }))).toBe("k2");
    expect(readAdminKey(headers({ authorization: `Basic ${Buffer.from("any:k3:with-colon").toString("base64")}` }))).toBe("k3:with-colon");
    expect(readAdminKey(headers({}))).toBeUndefined();
    expect(readAdminKey(headers({ authorization: "Digest x" }))).toBeUndefined();
  });

  it("matches only the exact key", () => {
    expect(adminKeyMatches("secret-key", "secret-key")).toBe(true);
    expect(adminKeyMatches("secret-ke", "secret-key")).toBe(false);
    expect(adminKeyMatches("", "secret-key")).toBe(false);
  });
});
