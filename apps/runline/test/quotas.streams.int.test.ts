import Redis from "ioredis";
import { quotaKeys, StreamSlots, type StreamSlot } from "@runline/api-app";
import { openSse, waitFor, type SseStream } from "@runline/testing";
import { apiClient, startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("quotas-streams", {
    RUNLINE_API_KEYS: "key-a:alpha,key-b:beta,key-c:gamma",
    RUNLINE_TENANT_MAX_STREAMS: "2",
    RUNLINE_MAX_STREAMS: "3",
  });
});
afterAll(async () => {
  await t.close();
});

/** A run that lasts until cancelled, so its streams stay open. */
const longRun = { assistant_id: "story", input: userInput("hi"), config: { configurable: { story_tokens: 1000, story_token_delay_ms: 50 } } };

describe("open streams per tenant and in all", () => {
  it("answers 429 TOO_MANY_STREAMS before the SSE headers past the tenant's limit, and frees the slot when a stream closes", async () => {
    const alpha = apiClient(t.url, "key-a");
    const threadId = (await alpha.post("/threads", {})).body.thread_id;
    const run = (await alpha.post(`/threads/${threadId}/runs`, longRun)).body;
    const join = () => openSse(`${t.url}/threads/${threadId}/runs/${run.run_id}/stream`, { headers: { "x-api-key": "key-a" } });
    const counter = new StreamSlots(t.ns.redis, t.ns.redisPrefix, { tenantStreams: 2, streams: 3 });
    const open: SseStream[] = [];
    try {
      open.push(await join(), await join());
      expect(open.map((s) => s.status)).toEqual([200, 200]);
      const third = await join();
      expect(third.status).toBe(429);
      expect(third.headers.get("content-type")).toContain("application/problem+json");
      expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      third.close();
      // A create-and-stream over the limit is refused before the run exists.
      const refusedCreate = await fetch(`${t.url}/threads/${threadId}/runs/stream`, {
        method: "POST",
        headers: { "x-api-key": "key-a", "content-type": "application/json" },
        body: JSON.stringify(longRun),
      });
      expect(refusedCreate.status).toBe(429);
      expect((await refusedCreate.json()).code).toBe("TOO_MANY_STREAMS");
      expect((await alpha.get(`/threads/${threadId}/runs`)).body).toHaveLength(1);

      expect(await counter.count("alpha")).toEqual({ tenant: 2, all: 2 });

      open[0].close();
      await waitFor(async () => (await counter.count("alpha")).tenant === 1, { what: "the closed stream's slot to be released" });
      // A create that fails (no such thread) gives its slot back before answering.
      const missing = await fetch(`${t.url}/threads/00000000-0000-4000-8000-000000000000/runs/stream`, {
        method: "POST",
        headers: { "x-api-key": "key-a", "content-type": "application/json" },
        body: JSON.stringify(longRun),
      });
      expect(missing.status).toBe(404);
      await missing.body?.cancel();
      expect(await counter.count("alpha")).toEqual({ tenant: 1, all: 1 });
      open.push(await join());
      expect(open[2].status).toBe(200);
      expect(await counter.count("alpha")).toEqual({ tenant: 2, all: 2 });
    } finally {
      for (const s of open) s.close();
      await alpha.post(`/threads/${threadId}/runs/${run.run_id}/cancel?wait=1`);
    }
    await waitFor(async () => (await counter.count("alpha")).all === 0, { what: "every slot released" });
  });

  // The global limit through the class the API uses (HTTP would need a run per tenant; the count is the same code).
  it("the global limit counts every tenant", async () => {
    const counter = new StreamSlots(t.ns.redis, `${t.ns.redisPrefix}:global`, { tenantStreams: 2, streams: 3 });
    const held = [await counter.acquire("alpha"), await counter.acquire("alpha"), await counter.acquire("beta")];
    await expect(counter.acquire("gamma")).rejects.toMatchObject({ code: "TOO_MANY_STREAMS", status: 429 });
    await held[0].release();
    await held[0].release(); // idempotent: releasing twice frees one slot, not two
    const next = await counter.acquire("gamma");
    await expect(counter.acquire("gamma")).rejects.toMatchObject({ code: "TOO_MANY_STREAMS" });
    for (const slot of [...held, next]) await slot.release();
    expect(await counter.count("gamma")).toEqual({ tenant: 0, all: 0 });
  });

  it("the process's one refresh timer keeps every slot it holds alive, across tenants", async () => {
    const prefix = `${t.ns.redisPrefix}:many`;
    const ttlMs = 300;
    const counter = new StreamSlots(t.ns.redis, prefix, { tenantStreams: 10, streams: 100 }, { ttlMs });
    const tenants = ["alpha", "beta", "gamma"];
    const held = await Promise.all(tenants.flatMap((tenant) => [counter.acquire(tenant), counter.acquire(tenant)]));
    const expiries = async () => (await t.ns.redis.zrange(quotaKeys(prefix).allStreams, 0, -1, "WITHSCORES")).filter((_, i) => i % 2 === 1).map(Number);
    const first = Math.max(...(await expiries()));
    // Past two whole TTLs every slot, of every tenant, is still there: each was refreshed, none lapsed.
    await waitFor(async () => Math.min(...(await expiries())) > first + ttlMs, { timeoutMs: 10_000, what: "every slot refreshed past its first expiry" });
    for (const tenant of tenants) expect((await counter.count(tenant)).tenant).toBe(2);
    expect((await counter.count("alpha")).all).toBe(6);
    for (const slot of held) await slot.release();
    expect(await counter.count("alpha")).toEqual({ tenant: 0, all: 0 });
  });

  it("a slot held by a process that died expires after its TTL; a live one is kept alive by its refresh", async () => {
    const prefix = `${t.ns.redisPrefix}:crash`;
    const limits = { tenantStreams: 1, streams: 100 };
    const ttlMs = 300;
    // The "dying" process has its own connection; cutting it stops its refreshes, as a crash would.
    const doomed = new Redis(t.ns.redisUrl, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    doomed.on("error", () => undefined);
    const survivor = new StreamSlots(t.ns.redis, prefix, limits, { ttlMs });
    try {
      await new StreamSlots(doomed, prefix, limits, { ttlMs }).acquire("alpha");
      const live = await survivor.acquire("beta");
      const scoreOf = async () => Number((await t.ns.redis.zrange(quotaKeys(prefix).allStreams, 0, -1, "WITHSCORES")).at(-1));
      await expect(survivor.acquire("alpha")).rejects.toMatchObject({ code: "TOO_MANY_STREAMS" });
      doomed.disconnect();
      // Alpha's slot lapses once nobody refreshes it.
      const taken = await waitFor<StreamSlot>(() => survivor.acquire("alpha").catch(() => false as const), { timeoutMs: 10_000, what: "the dead process's slot to expire" });
      // Beta's slot was refreshed meanwhile (its expiry moved on past a whole TTL), so it still counts.
      const first = await scoreOf();
      await waitFor(async () => (await scoreOf()) > first + ttlMs, { timeoutMs: 10_000, what: "two refreshes of the live slot" });
      await expect(survivor.acquire("beta")).rejects.toMatchObject({ code: "TOO_MANY_STREAMS" });
      await live.release();
      await taken.release();
    } finally {
      doomed.disconnect();
    }
  });
});
