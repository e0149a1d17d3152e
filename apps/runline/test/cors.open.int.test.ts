/**
 * CORS and the host guard of a Runline without API keys (the `npm start` default): pages on this machine work
 * with no configuration, nothing else may drive it. Requests go through node:http so the test controls `Host`,
 * which fetch does not let a caller set.
 */
import http from "node:http";
import { startTestRunline, type TestRunline } from "./harness";

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** One request to `base` with exactly these headers (`host` included). */
function raw(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawAnswer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers: { host: url.host, ...headers }, agent: false },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => {
          let parsed: any = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            /* keep the text */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const preflight = (origin: string, requestHeaders = "content-type") => ({
  origin,
  "access-control-request-method": "POST",
  "access-control-request-headers": requestHeaders,
});

describe("without API keys, on loopback (the defaults)", () => {
  let t: TestRunline;
  beforeAll(async () => {
    t = await startTestRunline("cors-open");
  });
  afterAll(async () => {
    await t?.close();
  });

  it("lets a Vite page on :5173 call it: preflight, a thread, and a streamed run whose run id headers are exposed", async () => {
    const origin = "http://localhost:5173";
    const pre = await raw(t.url, "OPTIONS", "/threads", preflight(origin, "content-type,x-api-key"));
    expect(pre.status).toBe(204);
    expect(pre.headers["access-control-allow-origin"]).toBe(origin);
    expect(pre.headers["access-control-allow-headers"]).toBe("content-type,x-api-key");
    expect(pre.headers["access-control-allow-credentials"]).toBeUndefined();
    expect(pre.headers.vary).toMatch(/origin/i);

    const thread = await raw(t.url, "POST", "/threads", { origin, "content-type": "application/json" }, "{}");
    expect(thread.status).toBe(200);
    expect(thread.headers["access-control-allow-origin"]).toBe(origin);

    const run = await raw(
      t.url,
      "POST",
      `/threads/${thread.body.thread_id}/runs/stream`,
      { origin, "content-type": "application/json" },
      JSON.stringify({ assistant_id: "story", input: { messages: [{ role: "user", content: "hi" }] } }),
    );
    expect(run.status).toBe(200);
    expect(run.headers["content-location"]).toMatch(new RegExp(`^/threads/${thread.body.thread_id}/runs/`));
    const exposed = String(run.headers["access-control-expose-headers"]).split(/,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(["content-location", "location"]));
    expect(String(run.body)).toContain("event: end");
  });

  it.each(["http://127.0.0.1:8080", "https://localhost", "http://[::1]:3000", "http://app.localhost:5173"])("allows the loopback origin %s", async (origin) => {
    const pre = await raw(t.url, "OPTIONS", "/threads/search", preflight(origin));
    expect(pre.status).toBe(204);
    expect(pre.headers["access-control-allow-origin"]).toBe(origin);
  });

  it("refuses other origins with 403 ORIGIN_NOT_ALLOWED, preflight or simple request, and creates nothing", async () => {
    const pre = await raw(t.url, "OPTIONS", "/threads", preflight("http://evil.example"));
    expect(pre.status).toBe(403);
    expect(pre.body.code).toBe("ORIGIN_NOT_ALLOWED");
    expect(pre.headers["access-control-allow-origin"]).toBeUndefined();

    // A form post or a text/plain fetch needs no preflight, so missing CORS headers alone would not stop it.
    const before = await t.api.post("/threads/search", { limit: 1000 });
    const simple = await raw(t.url, "POST", "/threads", { origin: "http://evil.example", "content-type": "text/plain" }, "{}");
    expect(simple.status).toBe(403);
    expect(simple.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(simple.body).toMatchObject({ code: "ORIGIN_NOT_ALLOWED", status: 403 });
    const nullOrigin = await raw(t.url, "POST", "/threads", { origin: "null", "content-type": "application/json" }, "{}");
    expect(nullOrigin.body.code).toBe("ORIGIN_NOT_ALLOWED");
    const after = await t.api.post("/threads/search", { limit: 1000 });
    expect(after.body.length).toBe(before.body.length);
  });

  it("refuses a non-loopback Host with 403 HOST_NOT_ALLOWED (DNS rebinding), from the one error mapper", async () => {
    const port = new URL(t.url).port;
    // A rebinding page is same-origin with itself: its Origin matches the Host it sends.
    for (const host of [`evil.example:${port}`, `192.168.1.20:${port}`, `localhost.evil.example:${port}`]) {
      const res = await raw(t.url, "POST", "/threads", { host, origin: `http://${host}`, "content-type": "application/json" }, "{}");
      expect({ host, status: res.status, code: res.body?.code }).toEqual({ host, status: 403, code: "HOST_NOT_ALLOWED" });
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.body.detail).toContain("RUNLINE_ALLOWED_HOSTS");
    }
    const get = await raw(t.url, "GET", "/threads/x/state", { host: "evil.example" });
    expect(get.body.code).toBe("HOST_NOT_ALLOWED");
    for (const host of [`localhost:${port}`, `[::1]:${port}`, `127.0.0.1:${port}`, `runline.localhost:${port}`]) {
      const res = await raw(t.url, "POST", "/threads", { host, "content-type": "application/json" }, "{}");
      expect({ host, status: res.status }).toEqual({ host, status: 200 });
    }
  });

  it("still answers the health probes under any Host (an orchestrator's probe uses the pod address)", async () => {
    const res = await raw(t.url, "GET", "/healthz", { host: "10.1.2.3:2024" });
    expect(res.status).toBe(200);
  });
});

describe("without API keys, bound to 0.0.0.0 with RUNLINE_ALLOWED_HOSTS", () => {
  let t: TestRunline;
  beforeAll(async () => {
    t = await startTestRunline("cors-hosts", { HOST: "0.0.0.0", RUNLINE_ALLOWED_HOSTS: "DevBox.test" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("serves the listed host and its pages, and still refuses any other name", async () => {
    // The URL it reports for this machine is loopback, never the unconnectable 0.0.0.0.
    expect(t.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = new URL(t.url).port;
    const pre = await raw(t.url, "OPTIONS", "/threads", { host: `devbox.test:${port}`, ...preflight("http://devbox.test:5173") });
    expect(pre.status).toBe(204);
    expect(pre.headers["access-control-allow-origin"]).toBe("http://devbox.test:5173");
    const ok = await raw(t.url, "POST", "/threads", { host: `devbox.test:${port}`, "content-type": "application/json" }, "{}");
    expect(ok.status).toBe(200);
    const other = await raw(t.url, "POST", "/threads", { host: `192.168.1.20:${port}`, "content-type": "application/json" }, "{}");
    expect(other.body.code).toBe("HOST_NOT_ALLOWED");
  });
});
