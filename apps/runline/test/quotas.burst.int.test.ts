import { apiClient, startTestRunline, userInput, type TestRunline } from "./harness";

// API processes only: no worker picks the runs up, so every created run stays pending and counts as active.
// The limit sits just above Postgres' max_connections, so a burst crosses from the shared-lock regime (far from
// the limit: creations do not wait for each other) into the exclusive one (near it: serialised, exact count).
let t: TestRunline;
let second: TestRunline;
let limit: number;
beforeAll(async () => {
  const probe = await startTestRunline("quotas-burst", { RUNLINE_ROLE: "api" });
  const maxConnections = Number((await probe.ns.pool.query("SHOW max_connections")).rows[0].max_connections);
  await probe.close();
  limit = maxConnections + 30;
  const env = { RUNLINE_ROLE: "api", RUNLINE_TENANT_MAX_ACTIVE_RUNS: String(limit), RUNLINE_MAX_ACTIVE_RUNS: String(limit * 10) };
  t = await startTestRunline("quotas-burst", env);
  // A second API process on the same schema: the limit holds across processes, not per process.
  second = await startTestRunline("quotas-burst", env, t.ns);
});
afterAll(async () => {
  await second?.close();
  await t?.close();
});

it("a burst of creations past the active-run limit admits exactly the limit, across API processes", async () => {
  const apis = [apiClient(t.url), apiClient(second.url)];
  const attempts = limit + 40;
  const threads = await Promise.all(Array.from({ length: attempts }, async (_, i) => (await apis[i % 2]!.post("/threads", {})).body.thread_id as string));
  const answers = await Promise.all(
    threads.map((threadId, i) => apis[i % 2]!.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("hi") })),
  );
  const statuses = answers.map((a) => a.status);
  // A busy machine may answer some with 503 (no pool connection in time): a retryable refusal that creates nothing.
  expect(statuses.filter((s) => s !== 200 && s !== 429 && s !== 503)).toEqual([]);
  const unavailable = statuses.filter((s) => s === 503).length;
  expect(statuses.filter((s) => s === 200)).toHaveLength(Math.min(limit, attempts - unavailable));
  for (const refused of answers.filter((a) => a.status === 429)) expect(refused.body.code).toBe("TOO_MANY_RUNS");
  const { rows } = await t.ns.pool.query("SELECT count(*)::int AS n FROM runs WHERE status IN ('pending', 'running')");
  expect(rows[0].n).toBe(Math.min(limit, attempts - unavailable));
});
