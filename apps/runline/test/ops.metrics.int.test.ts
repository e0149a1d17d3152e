import { collectSse, waitFor } from "@runline/testing";
import { cancel, newThread, startLiveRun } from "./cancel-helpers";
import { startTestRunline, userInput, type TestRunline } from "./harness";

const ADMIN_KEY = "ops-metrics-admin-key-0123456789";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("ops-metrics", { RUNLINE_ADMIN_KEY: ADMIN_KEY });
});
afterAll(async () => {
  await t.close();
});

/** `/metrics` with the admin key, as Prometheus scrapes it. */
async function scrape(url = t.url, headers: Record<string, string> = { "x-admin-key": ADMIN_KEY }): Promise<Metrics> {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return new Metrics(await res.text());
}

/** A parsed Prometheus text exposition: `value(name, labels)` sums the samples whose labels include `labels`. */
class Metrics {
  private readonly samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  constructor(readonly text: string) {
    for (const line of text.split("\n")) {
      const match = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/);
      if (!match) continue;
      const labels: Record<string, string> = {};
      for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
      this.samples.push({ name: match[1], labels, value: Number(match[3]) });
    }
  }
  has(name: string): boolean {
    return this.samples.some((s) => s.name === name);
  }
  value(name: string, labels: Record<string, string> = {}): number {
    return this.samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  }
}

function delta(before: Metrics, after: Metrics, name: string, labels: Record<string, string> = {}): number {
  return after.value(name, labels) - before.value(name, labels);
}

describe("/metrics", () => {
  it("needs the admin key: 401 without one (with a Basic challenge), 403 with a wrong one, 200 with it in any accepted form", async () => {
    const none = await fetch(`${t.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic realm="Runline admin"/);
    expect(await none.json()).toMatchObject({ code: "ADMIN_KEY_REQUIRED" });
    const wrong = await fetch(`${t.url}/metrics`, { headers: { "x-admin-key": "not-the-admin-key-at-all" } });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ code: "ADMIN_KEY_INVALID" });
    await scrape(t.url, { authorization: `Bearer ${ADMIN_KEY}` });
    await scrape(t.url, { authorization: `Basic ${Buffer.from(`prometheus:${ADMIN_KEY}`).toString("base64")}` });
  });

  it("exposes every Runline metric and Node's process metrics", async () => {
    const metrics = await scrape();
    for (const name of [
      "runline_build_info",
      "runline_runs_finished_total",
      "runline_runs_active",
      "runline_run_queue_wait_seconds_bucket",
      "runline_run_time_to_first_token_seconds_bucket",
      "runline_run_duration_seconds_bucket",
      "runline_tokens_streamed_total",
      "runline_cancels_total",
      "runline_cancel_latency_seconds_bucket",
      "runline_sse_subscribers",
      "runline_journal_appends_total",
      "runline_journal_entries_per_run_bucket",
      "runline_dependency_errors_total",
      "runline_http_requests_total",
      "runline_queue_jobs",
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_seconds",
    ]) {
      expect(`${name}: ${metrics.text.includes(`# TYPE ${name.replace(/_bucket$/, "")} `)}`).toBe(`${name}: true`);
    }
    // Histograms in seconds with millisecond-scale buckets for the fast paths.
    expect(metrics.text).toContain('runline_run_time_to_first_token_seconds_bucket{le="0.005"}');
    expect(metrics.text).toContain('runline_run_queue_wait_seconds_bucket{le="0.005"}');
  });

  it("a streamed run moves the run, token, time-to-first-token, queue and journal metrics", async () => {
    const before = await scrape();
    const threadId = await newThread(t);
    const { frames } = await collectSse(`${t.url}/threads/${threadId}/runs/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "story", input: userInput("tell me a story"), stream_mode: ["messages-tuple", "values"], config: { configurable: { story_tokens: 12, story_token_delay_ms: 1 } } }),
    });
    const tokens = frames.filter((f) => f.event === "messages").length;
    expect(tokens).toBeGreaterThanOrEqual(12);
    // The journal size is observed just after the terminal event, and BullMQ completes the job only after the
    // processor returns (after that event too): wait for both rather than race them.
    const after = await waitFor(async () => {
      const m = await scrape();
      return delta(before, m, "runline_journal_entries_per_run_count") === 1 && m.value("runline_queue_jobs", { state: "completed" }) >= 1 && m;
    });

    expect(delta(before, after, "runline_tokens_streamed_total")).toBe(tokens);
    expect(delta(before, after, "runline_runs_finished_total", { status: "success" })).toBe(1);
    expect(delta(before, after, "runline_run_time_to_first_token_seconds_count")).toBe(1);
    expect(delta(before, after, "runline_run_queue_wait_seconds_count")).toBe(1);
    expect(delta(before, after, "runline_run_duration_seconds_count", { status: "success" })).toBe(1);
    expect(delta(before, after, "runline_journal_appends_total", { event: "messages" })).toBe(tokens);
    expect(delta(before, after, "runline_journal_appends_total", { event: "end" })).toBe(1);
    expect(delta(before, after, "runline_journal_entries_per_run_sum")).toBeGreaterThan(tokens);
    expect(delta(before, after, "runline_http_requests_total", { method: "POST", route: "/threads/:threadId/runs/stream", status: "200" })).toBe(1);
    expect(after.value("runline_runs_active")).toBe(0);
    expect(after.value("runline_queue_jobs", { state: "completed" })).toBeGreaterThanOrEqual(1);
  });

  it("a cancel moves the cancel counter (by action and outcome), the cancel latency and the interrupted runs; SSE subscribers go up and back down", async () => {
    const before = await scrape();
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "tell me a long story");
    await live.readTokens(5);
    const during = await scrape();
    expect(during.value("runline_sse_subscribers")).toBe(before.value("runline_sse_subscribers") + 1);
    expect(during.value("runline_runs_active")).toBe(1);

    const res = await cancel(t, live, "wait=1&action=interrupt");
    expect(res.body).toMatchObject({ outcome: "cancelled" });
    await live.readToEnd();
    const streamed = live.tokens().length;
    expect(res.body.partial.token_count).toBe(streamed);

    const after = await waitFor(async () => {
      const m = await scrape();
      return m.value("runline_sse_subscribers") === before.value("runline_sse_subscribers") && m;
    });
    expect(delta(before, after, "runline_cancels_total", { action: "interrupt", outcome: "cancelled" })).toBe(1);
    expect(delta(before, after, "runline_cancel_latency_seconds_count", { action: "interrupt" })).toBe(1);
    expect(delta(before, after, "runline_cancel_latency_seconds_sum", { action: "interrupt" })).toBeGreaterThan(0);
    expect(delta(before, after, "runline_runs_finished_total", { status: "interrupted" })).toBe(1);
    expect(delta(before, after, "runline_run_duration_seconds_count", { status: "interrupted" })).toBe(1);
    expect(delta(before, after, "runline_tokens_streamed_total")).toBe(streamed);
    expect(delta(before, after, "runline_run_time_to_first_token_seconds_count")).toBe(1);
    expect(after.value("runline_runs_active")).toBe(0);
  });

  it("wait=0 and already-finished cancels are counted by outcome, without a latency sample", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "story");
    await live.readTokens(3);
    const before = await scrape();
    expect((await cancel(t, live, "wait=0&action=rollback")).status).toBe(202);
    await live.readToEnd();
    expect((await cancel(t, live, "wait=1&action=rollback")).body.outcome).toBe("already_finished");
    const after = await scrape();
    expect(delta(before, after, "runline_cancels_total", { action: "rollback", outcome: "requested" })).toBe(1);
    expect(delta(before, after, "runline_cancels_total", { action: "rollback", outcome: "already_finished" })).toBe(1);
    expect(delta(before, after, "runline_cancel_latency_seconds_count")).toBe(0);
  });
});

describe("/admin/queues (bull-board)", () => {
  it("answers behind the admin key and lists the runs queue", async () => {
    expect((await fetch(`${t.url}/admin/queues`)).status).toBe(401);
    expect((await fetch(`${t.url}/admin/queues`, { headers: { "x-admin-key": "not-the-admin-key-at-all" } })).status).toBe(403);
    expect((await fetch(`${t.url}/admin/queues/api/queues`)).status).toBe(401);

    const page = await fetch(`${t.url}/admin/queues`, { headers: { "x-admin-key": ADMIN_KEY } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(await page.text()).toContain("/admin/queues");

    // A browser logs in with Basic auth (any user name, the key as password) and the page's API calls carry it.
    const basic = `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString("base64")}`;
    const api = await fetch(`${t.url}/admin/queues/api/queues`, { headers: { authorization: basic } });
    expect(api.status).toBe(200);
    const body = await api.json();
    expect(body.queues.map((q: any) => q.name)).toContain("runs");
    // Read-only unless RUNLINE_QUEUE_DASHBOARD_ACTIONS=1: hand-removing a run's job would strand the run.
    expect(body.queues.find((q: any) => q.name === "runs").readOnlyMode).toBe(true);
  });
});

describe("several Runlines in one process", () => {
  it("each has its own registry, and without RUNLINE_ADMIN_KEY /metrics and /admin are disabled (404)", async () => {
    const other = await startTestRunline("ops-metrics-other");
    try {
      expect(other.runline.metrics.registry).not.toBe(t.runline.metrics.registry);
      const text = await other.runline.metrics.render();
      expect(text).toMatch(/^runline_tokens_streamed_total 0$/m);
      expect((await scrape()).value("runline_tokens_streamed_total")).toBeGreaterThan(0);

      for (const path of ["/metrics", "/admin/queues", "/admin/queues/api/queues"]) {
        const res = await fetch(`${other.url}${path}`, { headers: { "x-admin-key": ADMIN_KEY } });
        expect(res.status).toBe(404);
        expect(await res.json()).toMatchObject({ code: "ADMIN_DISABLED", detail: expect.stringContaining("RUNLINE_ADMIN_KEY") });
      }
    } finally {
      await other.close();
    }
  });
});
