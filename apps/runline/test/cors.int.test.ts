import { startTestRunline, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("cors", { RUNLINE_CORS_ORIGINS: "http://app.example:5173", RUNLINE_API_KEYS: "cors-key:alpha" });
});
afterAll(async () => {
  await t.close();
});

describe("CORS for browser frontends on another origin", () => {
  it("answers the preflight of an allowed origin without a key, and exposes the headers the SDK reads", async () => {
    const preflight = await fetch(`${t.url}/threads/x/runs/stream`, {
      method: "OPTIONS",
      headers: { origin: "http://app.example:5173", "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-api-key" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://app.example:5173");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("content-type,x-api-key");

    const created = await fetch(`${t.url}/threads`, {
      method: "POST",
      headers: { origin: "http://app.example:5173", "content-type": "application/json", "x-api-key": "cors-key" },
      body: "{}",
    });
    expect(created.status).toBe(200);
    expect(created.headers.get("access-control-allow-origin")).toBe("http://app.example:5173");
    expect(created.headers.get("access-control-expose-headers")).toContain("content-location");
  });

  it("says nothing to other origins", async () => {
    const res = await fetch(`${t.url}/threads`, { method: "OPTIONS", headers: { origin: "http://evil.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.status).toBeGreaterThanOrEqual(400);
  });
});
