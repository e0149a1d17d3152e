import net from "node:net";
import { loadConfig } from "@runline/config";
import { createTestNamespace, waitFor, type TestNamespace } from "@runline/testing";
import { startTestRunline, type TestRunline } from "./harness";

const ADMIN_KEY = "ops-health-admin-key-0123456789";

/**
 * A TCP forwarder to a real Redis or Postgres. `stop()` closes its port and cuts every connection through it, so
 * the Runline behind it sees exactly what a dead dependency looks like (a refused port); `start()` opens the same
 * port again.
 */
class Forwarder {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private hanging = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      this.track(client);
      if (this.hanging) return;
      const upstream = net.connect(this.target.port, this.target.host);
      this.track(upstream);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => {
        client.destroy();
        this.pairs.delete(pair);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
  }

  /** A dependency that stops answering without closing anything (a hung server, a dropped route). */
  hang(): void {
    this.hanging = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.hanging = false;
    this.pairs.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /** `url` with its host and port replaced by this forwarder's. */
  rewrite(url: string): string {
    const u = new URL(url);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString();
  }
}

function targetOf(url: string, defaultPort: number) {
  const u = new URL(url);
  return { host: u.hostname || "127.0.0.1", port: Number(u.port || defaultPort) };
}

async function readyz(url: string) {
  const startedAt = Date.now();
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: await res.json(), ms: Date.now() - startedAt };
}

async function dependencyErrors(url: string, dependency: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { "x-admin-key": ADMIN_KEY } })).text();
  const line = text.split("\n").find((l) => l.startsWith(`runline_dependency_errors_total{dependency="${dependency}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

let ns: TestNamespace;
let redisForwarder: Forwarder;
let pgForwarder: Forwarder;
let t: TestRunline;

beforeAll(async () => {
  ns = await createTestNamespace("ops-health");
  redisForwarder = new Forwarder(targetOf(ns.redisUrl, 6379));
  pgForwarder = new Forwarder(targetOf(ns.databaseUrl, 5432));
  await redisForwarder.start();
  await pgForwarder.start();
  // Runline needs both at start (it migrates and subscribes); the outages below happen while it runs, the way
  // production meets them. LOG_LEVEL=silent: the worker warns on every Redis reconnect attempt.
  t = await startTestRunline(
    "ops-health",
    { REDIS_URL: redisForwarder.rewrite(ns.redisUrl), DATABASE_URL: pgForwarder.rewrite(ns.databaseUrl), RUNLINE_ADMIN_KEY: ADMIN_KEY, RUNLINE_HEALTH_TIMEOUT_MS: "1000", LOG_LEVEL: "silent" },
    ns,
  );
});
afterAll(async () => {
  // Both forwarders are up again here (each test restores its own), so Runline closes cleanly.
  await t?.close();
  await redisForwarder?.stop();
  await pgForwarder?.stop();
  await ns?.cleanup();
});

describe("/healthz and /readyz", () => {
  it("are ready with every dependency up, and need no key", async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await readyz(t.url);
    expect(ready).toMatchObject({ status: 200, body: { ok: true, checks: { redis: "ok", postgres: "ok", queue: "ok" } } });
  });

  it("a dead Redis: /readyz answers 503 within 2 s naming redis and the queue, /healthz stays 200, errors are counted", async () => {
    const errorsBefore = await dependencyErrors(t.url, "redis");
    await redisForwarder.stop();
    try {
      const ready = await readyz(t.url);
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(2000);
      expect(ready.body.ok).toBe(false);
      expect(ready.body.failing).toEqual(expect.arrayContaining(["redis", "queue"]));
      expect(ready.body.failing).not.toContain("postgres");
      expect(ready.body.checks.redis).not.toBe("ok");
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
      // ioredis reports each failed reconnect as an 'error' event.
      await waitFor(async () => (await dependencyErrors(t.url, "redis")) > errorsBefore, { what: "a counted Redis error" });
    } finally {
      await redisForwarder.start();
    }
    await waitFor(async () => (await readyz(t.url)).status === 200, { what: "ready again after Redis came back" });
  });

  it("a dead Postgres: /readyz answers 503 within 2 s naming postgres, /healthz stays 200, errors are counted", async () => {
    const errorsBefore = await dependencyErrors(t.url, "postgres");
    await pgForwarder.stop();
    try {
      const ready = await readyz(t.url);
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(2000);
      expect(ready.body.failing).toEqual(["postgres"]);
      expect(ready.body.checks).toMatchObject({ redis: "ok", queue: "ok" });
      expect(ready.body.checks.postgres).toMatch(/ECONNREFUSED|terminated|connect/i);
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
      expect(await dependencyErrors(t.url, "postgres")).toBeGreaterThan(errorsBefore);
    } finally {
      await pgForwarder.start();
    }
    await waitFor(async () => (await readyz(t.url)).status === 200, { what: "ready again after Postgres came back" });
  });

  it("a hung Postgres (connections open, no answers): /readyz still answers 503 within its bound", async () => {
    pgForwarder.hang();
    try {
      const ready = await readyz(t.url);
      expect(ready.status).toBe(503);
      // RUNLINE_HEALTH_TIMEOUT_MS=1000 here (default 1500).
      expect(ready.ms).toBeGreaterThanOrEqual(950);
      expect(ready.ms).toBeLessThan(2000);
      expect(ready.body).toMatchObject({ failing: ["postgres"], checks: { postgres: "no answer in 1000 ms", redis: "ok", queue: "ok" } });
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      await pgForwarder.stop();
      await pgForwarder.start();
    }
    await waitFor(async () => (await readyz(t.url)).status === 200, { what: "ready again after Postgres answered again" });
  });
});

describe("a worker-only process", () => {
  it("serves /healthz, /readyz and /metrics on RUNLINE_OPS_PORT, and nothing of the API", async () => {
    const worker = await startTestRunline("ops-health-worker", { RUNLINE_ROLE: "worker", RUNLINE_OPS_PORT: "0", RUNLINE_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: "silent" }, ns);
    try {
      expect(worker.runline.url).toBeNull();
      const opsUrl = worker.runline.opsUrl!;
      expect(opsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${opsUrl}/healthz`)).status).toBe(200);
      expect((await readyz(opsUrl)).body).toMatchObject({ ok: true, checks: { redis: "ok", postgres: "ok", queue: "ok" } });
      expect((await fetch(`${opsUrl}/metrics`)).status).toBe(401);
      const metrics = await fetch(`${opsUrl}/metrics`, { headers: { "x-admin-key": ADMIN_KEY } });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain("# TYPE runline_runs_active gauge");
      expect((await fetch(`${opsUrl}/threads`, { method: "POST" })).status).toBe(404);
    } finally {
      await worker.close();
    }
  });
});

describe("ops settings", () => {
  it("admin routes are off without a key; an empty variable counts as unset; the readiness bound is at most 2 s", () => {
    expect(loadConfig({})).toMatchObject({ adminKey: null, opsPort: null, queueDashboardActions: false });
    expect(loadConfig({ RUNLINE_ADMIN_KEY: "", RUNLINE_OPS_PORT: "" })).toMatchObject({ adminKey: null, opsPort: null });
    expect(loadConfig({}).healthTimeoutMs).toBeLessThanOrEqual(2000);
  });

  it("refuses a short admin key, or one that is also a tenant's API key", () => {
    expect(() => loadConfig({ RUNLINE_ADMIN_KEY: "short" })).toThrow(/RUNLINE_ADMIN_KEY: use at least 16 characters/);
    expect(() => loadConfig({ RUNLINE_API_KEYS: "k1-0123456789abcdef:alpha", RUNLINE_ADMIN_KEY: "k1-0123456789abcdef" })).toThrow(/RUNLINE_ADMIN_KEY: must differ/);
    expect(loadConfig({ RUNLINE_ADMIN_KEY: "admin-0123456789abcdef", RUNLINE_OPS_PORT: "9464" })).toMatchObject({ adminKey: "admin-0123456789abcdef", opsPort: 9464 });
  });
});
