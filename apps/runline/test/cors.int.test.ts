/** CORS of a Runline with API keys: RUNLINE_CORS_ORIGINS decides, any origin by default, and no host guard. */
import { startTestRunline, type TestRunline } from "./harness";

describe("with API keys and RUNLINE_CORS_ORIGINS", () => {
  let t: TestRunline;
  beforeAll(async () => {
    t = await startTestRunline("cors", { RUNLINE_CORS_ORIGINS: "http://app.example:5173", RUNLINE_API_KEYS: "cors-key:alpha" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("answers the preflight of an allowed origin without a key, and exposes the headers the SDK reads", async () => {
    const preflight = await fetch(`${t.url}/threads/x/runs/stream`, {
      method: "OPTIONS",
      headers: { origin: "http://app.example:5173", "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-api-key" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://app.example:5173");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("content-type,x-api-key");
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();

    const created = await fetch(`${t.url}/threads`, {
      method: "POST",
      headers: { origin: "http://app.example:5173", "content-type": "application/json", "x-api-key": "cors-key" },
      body: "{}",
    });
    expect(created.status).toBe(200);
    expect(created.headers.get("access-control-allow-origin")).toBe("http://app.example:5173");
    expect(created.headers.get("access-control-expose-headers")).toContain("content-location");
  });

  it("says nothing to other origins, loopback ones included (the list replaces the default)", async () => {
    for (const origin of ["http://evil.example", "http://localhost:5173"]) {
      const res = await fetch(`${t.url}/threads`, { method: "OPTIONS", headers: { origin } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.status).toBe(401);
    }
  });
});

describe("with API keys and no RUNLINE_CORS_ORIGINS", () => {
  let t: TestRunline;
  beforeAll(async () => {
    t = await startTestRunline("cors-keys", { RUNLINE_API_KEYS: "cors-any:beta" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("allows any origin with `*` (the key is a header the page holds, never a cookie), and the key still decides", async () => {
    const pre = await fetch(`${t.url}/threads`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-api-key" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-credentials")).toBeNull();

    const keyless = await fetch(`${t.url}/threads`, { method: "POST", headers: { origin: "https://app.example.com", "content-type": "application/json" }, body: "{}" });
    expect(keyless.status).toBe(401);
    // The page can read why (the error is CORS-readable too).
    expect(keyless.headers.get("access-control-allow-origin")).toBe("*");
    const keyed = await fetch(`${t.url}/threads`, {
      method: "POST",
      headers: { origin: "https://app.example.com", "content-type": "application/json", "x-api-key": "cors-any" },
      body: "{}",
    });
    expect(keyed.status).toBe(200);
    expect(keyed.headers.get("access-control-expose-headers")).toMatch(/content-location.*location/);
  });

  it("answers no preflight under /admin: the dashboard's CSRF defence is a header other pages cannot send", async () => {
    const pre = await fetch(`${t.url}/admin/api/runs`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "x-runline-dashboard" },
    });
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
  });
});
