import { apiClient, startTestRunline, userInput, type ApiClient, type TestRunline } from "./harness";

// One small rate and active-run limit for every tenant; each test uses its own tenant, so their counts never mix.
const TENANTS = ["rate", "other", "invalid", "active", "lists"];
const KEYS = TENANTS.map((t) => `key-${t}:${t}`).join(",");
const PER_MINUTE = 3;

let t: TestRunline;
let second: TestRunline;
beforeAll(async () => {
  const env = { RUNLINE_API_KEYS: KEYS, RUNLINE_TENANT_RUNS_PER_MINUTE: String(PER_MINUTE), RUNLINE_TENANT_MAX_ACTIVE_RUNS: "2" };
  t = await startTestRunline("quotas-admission", env);
  // A second API process on the same Postgres schema and Redis prefix: the limits are shared, not per process.
  second = await startTestRunline("quotas-admission", { ...env, RUNLINE_ROLE: "api" }, t.ns);
});
afterAll(async () => {
  await second.close();
  await t.close();
});

const as = (tenant: string, base = t.url) => apiClient(base, `key-${tenant}`);
/** A run that lasts until cancelled (1000 tokens, 50 ms each), so it stays active for the whole test. */
const longRun = { assistant_id: "story", input: userInput("hi"), config: { configurable: { story_tokens: 1000, story_token_delay_ms: 50 } } };
const quickRun = { assistant_id: "story", input: userInput("secret input text") };

async function newThread(api: ApiClient): Promise<string> {
  return (await api.post("/threads", {})).body.thread_id;
}

async function cancelAll(api: ApiClient, threadId: string) {
  for (const run of (await api.get(`/threads/${threadId}/runs?limit=100`)).body) {
    if (run.status === "pending" || run.status === "running") await api.post(`/threads/${threadId}/runs/${run.run_id}/cancel?wait=1`);
  }
}

describe("run creation rate per tenant", () => {
  it("answers 429 RATE_LIMITED with Retry-After past the limit, across API processes, and creates nothing", async () => {
    const viaFirst = as("rate");
    const viaSecond = as("rate", second.url);
    const threadId = await newThread(viaFirst);
    for (let i = 0; i < PER_MINUTE; i++) {
      const api = i % 2 ? viaSecond : viaFirst;
      // `/wait`: each run ends before the next, so the active-run limit never comes into it.
      expect((await api.post(`/threads/${threadId}/runs/wait`, quickRun)).status).toBe(200);
    }
    for (const api of [viaFirst, viaSecond]) {
      const refused = await api.post(`/threads/${threadId}/runs`, quickRun);
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe("RATE_LIMITED");
      const retryAfter = Number(refused.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // Stateless and streamed creations count against the same rate.
    expect((await viaFirst.post("/runs", quickRun)).status).toBe(429);
    expect((await viaFirst.post(`/threads/${threadId}/runs/stream`, quickRun)).status).toBe(429);
    expect((await viaFirst.get(`/threads/${threadId}/runs?limit=100`)).body).toHaveLength(PER_MINUTE);
    // Another tenant is not limited by this one.
    const other = as("other");
    expect((await other.post(`/threads/${await newThread(other)}/runs`, quickRun)).status).toBe(200);
  });

  it("counts only requests that would create a run: refused input never uses up the rate", async () => {
    const api = as("invalid");
    const threadId = await newThread(api);
    for (let i = 0; i < PER_MINUTE + 2; i++) {
      expect((await api.post(`/threads/${threadId}/runs`, { ...quickRun, assistant_id: "no-such-assistant" })).status).toBe(404);
      expect((await api.post(`/threads/${threadId}/runs`, { ...quickRun, stream_mode: ["nonsense"] })).status).toBe(422);
      expect((await api.post(`/threads/missing-thread/runs`, quickRun)).status).toBe(404);
    }
    for (let i = 0; i < PER_MINUTE; i++) expect((await api.post(`/threads/${threadId}/runs/wait`, quickRun)).status).toBe(200);
  });
});

describe("active runs per tenant", () => {
  it("answers 429 TOO_MANY_RUNS while the tenant has its limit of runs pending or running, and admits again once one ends", async () => {
    const api = as("active");
    const [first, secondThread, third] = [await newThread(api), await newThread(api), await newThread(api)];
    try {
      const a = (await api.post(`/threads/${first}/runs`, longRun)).body;
      expect((await api.post(`/threads/${secondThread}/runs`, longRun)).status).toBe(200);
      const refused = await api.post(`/threads/${third}/runs`, longRun);
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe("TOO_MANY_RUNS");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect((await api.get(`/threads/${third}/runs`)).body).toEqual([]);
      // The 429 did not use up the creation rate (3 a minute): after a cancel the third run is admitted.
      expect((await api.post(`/threads/${first}/runs/${a.run_id}/cancel?wait=1`)).status).toBe(200);
      expect((await api.post(`/threads/${third}/runs`, quickRun)).status).toBe(200);
    } finally {
      for (const id of [first, secondThread, third]) await cancelAll(api, id);
    }
  });
});

describe("run lists", () => {
  it("leave out each run's input unless include_input is set; the run itself has it", async () => {
    const api = as("lists");
    const threadId = await newThread(api);
    const run = (await api.post(`/threads/${threadId}/runs`, quickRun)).body;
    const [listed] = (await api.get(`/threads/${threadId}/runs`)).body;
    expect(listed.run_id).toBe(run.run_id);
    expect(listed.kwargs).not.toHaveProperty("input");
    expect(JSON.stringify(listed)).not.toContain("secret input text");
    const [full] = (await api.get(`/threads/${threadId}/runs?include_input=1`)).body;
    expect(full.kwargs.input).toEqual(quickRun.input);
    expect((await api.get(`/threads/${threadId}/runs/${run.run_id}`)).body.kwargs.input).toEqual(quickRun.input);
    expect((await api.get(`/threads/${threadId}/runs?include_input=maybe`)).status).toBe(422);
    expect((await api.get(`/threads/${threadId}/runs?limit=1001`)).status).toBe(422);
  });
});
