import { defaultPoolMax, loadConfig, processesFor } from "./config";

describe("loadConfig", () => {
  it("defaults to a single tenant on loopback with the built-in story model", () => {
    const config = loadConfig({});
    expect(config.host).toBe("127.0.0.1");
    expect(config.apiKeys.size).toBe(0);
    expect(config.model.provider).toBe("story");
    expect(config.port).toBe(2024);
  });

  it("maps API keys to tenants and listens on all interfaces when keys are set", () => {
    const config = loadConfig({ RUNLINE_API_KEYS: "k1:alpha, k2:beta" });
    expect(config.apiKeys.get("k1")).toBe("alpha");
    expect(config.apiKeys.get("k2")).toBe("beta");
    expect(config.host).toBe("0.0.0.0");
  });

  it("picks the OpenAI-compatible model when a key is present", () => {
    const config = loadConfig({ OPENAI_API_KEY: "sk-x", OPENAI_BASE_URL: "http://127.0.0.1:8000/v1" });
    expect(config.model).toMatchObject({ provider: "openai", openai: { baseURL: "http://127.0.0.1:8000/v1" } });
  });

  it("bounds every run and tenant by default (issue #9): time, output, active runs, streams, creation rate", () => {
    const config = loadConfig({ RUNLINE_API_KEYS: "k1:alpha" });
    expect(config.runTimeoutMs).toBe(600_000);
    expect(config.runMaxOutputBytes).toBe(16 * 1024 * 1024);
    expect(config.quotas).toEqual({ tenantActiveRuns: 100, activeRuns: 10_000, tenantStreams: 200, streams: 10_000, tenantRunsPerMinute: 600 });
    // One tenant (no keys) is the whole service: its limits are the service's, unless set.
    expect(loadConfig({}).quotas).toEqual({ tenantActiveRuns: 10_000, activeRuns: 10_000, tenantStreams: 10_000, streams: 10_000, tenantRunsPerMinute: 6000 });
    expect(loadConfig({ RUNLINE_MAX_ACTIVE_RUNS: "50", RUNLINE_TENANT_MAX_STREAMS: "7" }).quotas).toMatchObject({ tenantActiveRuns: 50, tenantStreams: 7 });
    // 0 still switches the run limits off; a quota cannot be switched off (it must be a positive number).
    expect(loadConfig({ RUNLINE_RUN_TIMEOUT_MS: "0", RUNLINE_RUN_MAX_OUTPUT_BYTES: "0" })).toMatchObject({ runTimeoutMs: 0, runMaxOutputBytes: 0 });
    expect(() => loadConfig({ RUNLINE_TENANT_MAX_STREAMS: "0" })).toThrow(/RUNLINE_TENANT_MAX_STREAMS/);
  });

  it("without keys: loopback origins and the host guard (loopback names plus RUNLINE_ALLOWED_HOSTS)", () => {
    expect(loadConfig({})).toMatchObject({ corsOrigins: ["loopback"], allowedHosts: [] });
    expect(loadConfig({ HOST: "0.0.0.0", RUNLINE_ALLOWED_HOSTS: "DevBox.lan:2024, runline" }).allowedHosts).toEqual(["devbox.lan", "runline"]);
    expect(loadConfig({ RUNLINE_ALLOWED_HOSTS: "*" }).allowedHosts).toBeNull();
    expect(loadConfig({ RUNLINE_CORS_ORIGINS: "none" }).corsOrigins).toEqual([]);
    expect(() => loadConfig({ RUNLINE_ALLOWED_HOSTS: "http://x/" })).toThrow(/RUNLINE_ALLOWED_HOSTS/);
  });

  it("with keys: any origin by default (keys are headers, not cookies), no host guard", () => {
    expect(loadConfig({ RUNLINE_API_KEYS: "k:t" })).toMatchObject({ corsOrigins: ["*"], allowedHosts: null });
    expect(loadConfig({ RUNLINE_API_KEYS: "k:t", RUNLINE_CORS_ORIGINS: "https://app.example, loopback" }).corsOrigins).toEqual([
      "https://app.example",
      "loopback",
    ]);
  });

  it("names every bad variable", () => {
    expect(() => loadConfig({ PORT: "x", RUNLINE_API_KEYS: "nocolon" })).toThrow(/PORT[\s\S]*RUNLINE_API_KEYS/);
  });
});

describe("RUNLINE_PROCESSES", () => {
  it("auto is every core for role all and one process for api/worker; a number is used as set", () => {
    expect(processesFor("auto", "all", 8)).toBe(8);
    expect(processesFor("auto", "api", 8)).toBe(1);
    expect(processesFor("auto", "worker", 8)).toBe(1);
    expect(processesFor(3, "worker", 8)).toBe(3);
    expect(loadConfig({ RUNLINE_PROCESSES: "1" }).processes).toBe(1);
    expect(() => loadConfig({ RUNLINE_PROCESSES: "0" })).toThrow(/RUNLINE_PROCESSES/);
  });

  it("the default pool keeps the processes together near 40 Postgres connections; a set pool size wins", () => {
    expect([1, 2, 3, 4, 8, 16].map(defaultPoolMax)).toEqual([20, 20, 13, 10, 5, 4]);
    expect(loadConfig({ RUNLINE_PROCESSES: "4" }).postgres.max).toBe(10);
    expect(loadConfig({ RUNLINE_PROCESSES: "4", RUNLINE_PG_POOL_MAX: "30" }).postgres.max).toBe(30);
  });
});

describe("RUNLINE_HEAP_GROWTH_PERCENT", () => {
  it("defaults to 3× the live heap; 0 leaves V8's own heuristics; out of range is refused", () => {
    expect(loadConfig({}).heapGrowthPercent).toBe(200);
    expect(loadConfig({ RUNLINE_HEAP_GROWTH_PERCENT: "0" }).heapGrowthPercent).toBe(0);
    expect(loadConfig({ RUNLINE_HEAP_GROWTH_PERCENT: "100" }).heapGrowthPercent).toBe(100);
    expect(() => loadConfig({ RUNLINE_HEAP_GROWTH_PERCENT: "-1" })).toThrow(/RUNLINE_HEAP_GROWTH_PERCENT/);
    expect(() => loadConfig({ RUNLINE_HEAP_GROWTH_PERCENT: "fast" })).toThrow(/RUNLINE_HEAP_GROWTH_PERCENT/);
  });
});
