/**
 * Thread ids are scoped by tenant (issue #9, "No oracle"): another tenant's thread id behaves exactly like an id
 * nobody used, on every thread route, and two tenants can each hold a thread of the same id, independent in
 * everything (state, history, runs, forks, cancel, join, streams). Nothing any route answers names the internal
 * storage key.
 */
import { collectSse, openSse, waitFor } from "@runline/testing";
import { apiClient, startTestRunline, userInput, type ApiClient, type TestRunline } from "./harness";

const ADMIN_KEY = "tenancy-ids-admin-key-0123456789";
const quick = { configurable: { story_tokens: 4, story_token_delay_ms: 0 } };
const slow = { configurable: { story_tokens: 400, story_token_delay_ms: 20 } };

let t: TestRunline;
let alpha: ApiClient;
let beta: ApiClient;
/** Every body any route answered in this file: none may hold a storage key. */
const answers: string[] = [];

beforeAll(async () => {
  t = await startTestRunline("tenancy-ids", { RUNLINE_API_KEYS: "ids-key-a:alpha,ids-key-b:beta", RUNLINE_ADMIN_KEY: ADMIN_KEY });
  alpha = recording(apiClient(t.url, "ids-key-a"));
  beta = recording(apiClient(t.url, "ids-key-b"));
});
afterAll(async () => {
  await t.close();
});

/** The client, keeping every answer it gets for the storage-key check at the end. */
function recording(client: ApiClient): ApiClient {
  const request: ApiClient["request"] = async (...args) => {
    const res = await client.request(...args);
    answers.push(JSON.stringify(res.body));
    return res;
  };
  return { ...client, request, get: (p) => request("GET", p), post: (p, b) => request("POST", p, b ?? {}) };
}

let ids = 0;
const freshId = () => `${t.ns.id}-id-${++ids}`;

/** A thread of `client`'s with one finished run; its run id and head checkpoint. */
async function threadWithRun(client: ApiClient, threadId: string, text: string) {
  expect((await client.post("/threads", { thread_id: threadId })).status).toBe(200);
  const done = await client.post(`/threads/${threadId}/runs/wait`, { assistant_id: "story", input: userInput(text), config: quick });
  expect(done.status).toBe(200);
  const runId = (await client.get(`/threads/${threadId}/runs`)).body[0].run_id as string;
  const checkpointId = (await client.get(`/threads/${threadId}/state`)).body.checkpoint.checkpoint_id as string;
  return { runId, checkpointId };
}

/** The status an SSE route answers (closed as soon as the headers came: a v2 stream never ends by itself). */
async function sseStatus(client: ApiClient, method: string, path: string, body?: unknown): Promise<{ status: number; type: string }> {
  const stream = await openSse(`${t.url}${path}`, {
    method,
    headers: { ...client.headers, "content-type": "application/json", accept: "text/event-stream" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  stream.close();
  return { status: stream.status, type: (stream.headers.get("content-type") ?? "").split(";")[0] };
}

/** What a route answered, minus what differs between any two requests (the id itself, the request id). */
async function outcome(client: ApiClient, route: Route, threadId: string, runId: string, checkpointId: string) {
  const path = route.path(threadId, runId, checkpointId);
  if (route.sse) return sseStatus(client, route.method, path, route.body?.(checkpointId));
  const res = await client.request(route.method, path, route.body?.(checkpointId));
  // Command replies are 200 envelopes: their error code is what a client branches on.
  return { status: res.status, code: res.body?.code ?? res.body?.error ?? null };
}

interface Route {
  method: string;
  path: (threadId: string, runId: string, checkpointId: string) => string;
  body?: (checkpointId: string) => unknown;
  sse?: boolean;
}

const run = { assistant_id: "story", input: userInput("hello"), config: quick };
/** Every route with a thread id in its path, in an order where none changes what a later one sees. */
const THREAD_ROUTES: Route[] = [
  { method: "GET", path: (th) => `/threads/${th}` },
  { method: "PATCH", path: (th) => `/threads/${th}`, body: () => ({ metadata: { taken: true } }) },
  { method: "GET", path: (th) => `/threads/${th}/state` },
  { method: "POST", path: (th) => `/threads/${th}/state`, body: () => ({ values: { messages: [{ role: "user", content: "x" }] } }) },
  { method: "POST", path: (th) => `/threads/${th}/state/checkpoint`, body: (cp) => ({ checkpoint: { checkpoint_id: cp } }) },
  { method: "GET", path: (th, _r, cp) => `/threads/${th}/state/${cp}` },
  { method: "POST", path: (th) => `/threads/${th}/history`, body: () => ({}) },
  { method: "GET", path: (th) => `/threads/${th}/history` },
  { method: "GET", path: (th) => `/threads/${th}/runs` },
  { method: "POST", path: (th) => `/threads/${th}/runs`, body: () => run },
  { method: "POST", path: (th) => `/threads/${th}/runs`, body: (cp) => ({ ...run, checkpoint_id: cp }) },
  { method: "POST", path: (th) => `/threads/${th}/runs/wait`, body: () => run },
  { method: "POST", path: (th) => `/threads/${th}/runs/stream`, body: () => run, sse: true },
  { method: "GET", path: (th, r) => `/threads/${th}/runs/${r}` },
  { method: "GET", path: (th, r) => `/threads/${th}/runs/${r}/join` },
  { method: "GET", path: (th, r) => `/threads/${th}/runs/${r}/stream`, sse: true },
  { method: "POST", path: (th, r) => `/threads/${th}/runs/${r}/cancel?wait=1` },
  { method: "POST", path: (th) => `/threads/${th}/stream/events`, body: () => ({ channels: ["values", "lifecycle"] }), sse: true },
  { method: "DELETE", path: (th, r) => `/threads/${th}/runs/${r}` },
  { method: "DELETE", path: (th) => `/threads/${th}` },
  // Last: a v2 run.start creates the thread when it is missing (the 1.x client mints ids), for both ids alike.
  { method: "POST", path: (th) => `/threads/${th}/commands`, body: () => ({ id: 1, method: "run.start", params: run }) },
];

describe("thread ids scoped by tenant", () => {
  it("another tenant's thread id answers every thread route exactly as a never-used id", async () => {
    const owned = freshId();
    const { runId, checkpointId } = await threadWithRun(alpha, owned, "alpha's secret");
    const unknownRun = "01a00000-0000-7000-8000-000000000000";
    const unknownCheckpoint = "1f000000-0000-6000-8000-000000000000";
    for (const route of THREAD_ROUTES) {
      const free = freshId();
      const name = `${route.method} ${route.path(":tid", ":rid", ":cp")}`;
      const foreign = await outcome(beta, route, owned, runId, checkpointId);
      const never = await outcome(beta, route, free, unknownRun, unknownCheckpoint);
      expect({ name, ...foreign }).toEqual({ name, ...never });
    }
    // None of it touched alpha's thread.
    const state = (await alpha.get(`/threads/${owned}/state`)).body;
    expect(state.checkpoint.checkpoint_id).toBe(checkpointId);
    expect((await alpha.get(`/threads/${owned}`)).body.metadata.taken).toBeUndefined();
    expect((await alpha.get(`/threads/${owned}/runs`)).body.map((r: any) => r.run_id)).toEqual([runId]);
  });

  it("POST /threads with another tenant's id creates the tenant's own thread, as for a free id", async () => {
    for (const ifExists of ["raise", "do_nothing"]) {
      const owned = freshId();
      expect((await alpha.post("/threads", { thread_id: owned, metadata: { owner: "alpha" } })).status).toBe(200);
      const taken = await beta.post("/threads", { thread_id: owned, if_exists: ifExists, metadata: { owner: "beta" } });
      const free = await beta.post("/threads", { thread_id: freshId(), if_exists: ifExists, metadata: { owner: "beta" } });
      expect({ ifExists, status: taken.status }).toEqual({ ifExists, status: free.status });
      expect(taken.status).toBe(200);
      expect(taken.body).toMatchObject({ thread_id: owned, metadata: { owner: "beta" } });
      expect((await beta.get(`/threads/${owned}`)).body).toMatchObject({ thread_id: owned, metadata: { owner: "beta" } });
      expect((await alpha.get(`/threads/${owned}`)).body).toMatchObject({ thread_id: owned, metadata: { owner: "alpha" } });
      // Now beta holds the id too: a second create is the usual conflict.
      if (ifExists === "raise") expect((await beta.post("/threads", { thread_id: owned })).status).toBe(409);
    }
  });

  it("a run with if_not_exists: create on another tenant's id creates the tenant's own thread", async () => {
    const owned = freshId();
    await threadWithRun(alpha, owned, "alpha first");
    const created = await beta.post(`/threads/${owned}/runs/wait`, { ...run, input: userInput("beta first"), if_not_exists: "create" });
    expect(created.status).toBe(200);
    expect((await beta.get(`/threads/${owned}/state`)).body.values.messages[0].content).toBe("beta first");
    expect((await alpha.get(`/threads/${owned}/state`)).body.values.messages[0].content).toBe("alpha first");
    // A fork point from the other tenant's history is no checkpoint of this thread.
    const alphaHead = (await alpha.get(`/threads/${owned}/state`)).body.checkpoint.checkpoint_id;
    const fork = await beta.post(`/threads/${freshId()}/runs`, { ...run, checkpoint_id: alphaHead, if_not_exists: "create" });
    expect(fork.status).toBe(404);
  });

  it("two tenants' threads of one id are independent: runs, state, history, forks, lists and deletes", async () => {
    const shared = freshId();
    const a = await threadWithRun(alpha, shared, "alpha story");
    const b = await threadWithRun(beta, shared, "beta story");
    expect(a.runId).not.toBe(b.runId);

    for (const [client, text, own, other] of [[alpha, "alpha story", a, b], [beta, "beta story", b, a]] as const) {
      const state = (await client.get(`/threads/${shared}/state`)).body;
      expect(state.values.messages[0].content).toBe(text);
      expect(state.checkpoint).toMatchObject({ thread_id: shared, checkpoint_id: own.checkpointId });
      const history = (await client.post(`/threads/${shared}/history`, { limit: 100 })).body as any[];
      expect(history.map((h) => h.checkpoint.checkpoint_id)).toContain(own.checkpointId);
      expect(history.map((h) => h.checkpoint.checkpoint_id)).not.toContain(other.checkpointId);
      expect(new Set(history.map((h) => h.checkpoint.thread_id))).toEqual(new Set([shared]));
      const runs = (await client.get(`/threads/${shared}/runs`)).body as any[];
      expect(runs.map((r) => [r.run_id, r.thread_id])).toEqual([[own.runId, shared]]);
      // The other tenant's run and checkpoint, on this tenant's thread of the same id: 404, like unknown ones.
      expect((await client.get(`/threads/${shared}/runs/${other.runId}`)).status).toBe(404);
      expect((await client.get(`/threads/${shared}/state/${other.checkpointId}`)).status).toBe(404);
      expect((await client.post(`/threads/${shared}/runs`, { ...run, checkpoint_id: other.checkpointId })).body.code).toBe("CHECKPOINT_NOT_FOUND");
      const found = (await client.post("/threads/search", { ids: [shared] })).body as any[];
      expect(found.map((th) => th.thread_id)).toEqual([shared]);
    }

    // A fork from the tenant's own checkpoint continues its own conversation only.
    const forked = await beta.post(`/threads/${shared}/runs/wait`, { ...run, input: userInput("beta again"), checkpoint_id: b.checkpointId });
    expect(forked.status).toBe(200);
    expect((await beta.get(`/threads/${shared}/state`)).body.values.messages.map((m: any) => m.content).slice(0, 1)).toEqual(["beta story"]);
    expect((await alpha.get(`/threads/${shared}/state`)).body.checkpoint.checkpoint_id).toBe(a.checkpointId);

    // Deleting one tenant's thread leaves the other's whole.
    expect((await beta.request("DELETE", `/threads/${shared}`)).status).toBe(204);
    expect((await beta.get(`/threads/${shared}`)).status).toBe(404);
    expect((await alpha.get(`/threads/${shared}/state`)).body.values.messages[0].content).toBe("alpha story");
    expect((await alpha.get(`/threads/${shared}/runs`)).body).toHaveLength(1);
  });

  it("a busy thread of one tenant does not hold up the same id of another; cancel and join across tenants are 404", async () => {
    const shared = freshId();
    await alpha.post("/threads", { thread_id: shared });
    await beta.post("/threads", { thread_id: shared });
    const long = (await alpha.post(`/threads/${shared}/runs`, { ...run, input: userInput("long"), config: slow })).body;
    await waitFor(async () => (await alpha.get(`/threads/${shared}/runs/${long.run_id}`)).body.status === "running", { what: "alpha's run running", timeoutMs: 10_000 });

    // Beta's run on its own thread of the same id starts and ends while alpha's is still streaming.
    const stream = await collectSse(`${t.url}/threads/${shared}/runs/stream`, {
      method: "POST",
      headers: { ...beta.headers, "content-type": "application/json" },
      body: JSON.stringify({ ...run, stream_mode: ["values", "checkpoints", "debug"] }),
    });
    answers.push(JSON.stringify(stream.frames));
    expect(stream.frames[0]).toMatchObject({ event: "metadata", data: { thread_id: shared } });
    expect(stream.frames.some((f) => f.event === "checkpoints")).toBe(true);
    expect((await alpha.get(`/threads/${shared}/runs/${long.run_id}`)).body.status).toBe("running");

    // Beta names alpha's run under its own thread of the same id: 404, and alpha's run goes on.
    expect((await beta.post(`/threads/${shared}/runs/${long.run_id}/cancel?wait=1`)).status).toBe(404);
    expect((await beta.get(`/threads/${shared}/runs/${long.run_id}/join`)).status).toBe(404);
    expect((await beta.get(`/threads/${shared}/runs/${long.run_id}/stream`)).status).toBe(404);
    await beta.post(`/runs/cancel`, { thread_id: shared });
    expect((await alpha.get(`/threads/${shared}/runs/${long.run_id}`)).body).toMatchObject({ status: "running", cancel_action: null });

    const cancelled = await alpha.post(`/threads/${shared}/runs/${long.run_id}/cancel?wait=1`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ thread_id: shared, run: { thread_id: shared, status: "interrupted" } });
  });

  it("a protocol v2 thread stream follows the tenant's own runs only", async () => {
    const shared = freshId();
    const events = await openSse(`${t.url}/threads/${shared}/stream/events`, {
      method: "POST",
      headers: { ...beta.headers, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ channels: ["values", "lifecycle"] }),
    });
    try {
      // Alpha's run on its thread of the same id first: beta's stream must not see it.
      await threadWithRun(alpha, shared, "alpha only");
      const mine = await beta.post(`/threads/${shared}/runs/wait`, { ...run, input: userInput("beta only"), if_not_exists: "create" });
      expect(mine.status).toBe(200);
      const seen: any[] = [];
      const deadline = setTimeout(() => events.close(), 15_000);
      for (;;) {
        const next = await events.frames.next();
        if (next.done) break;
        seen.push(next.value.data);
        const data = next.value.data;
        if (data.method === "lifecycle" && data.params.namespace.length === 0 && data.params.data.event === "completed") break;
      }
      clearTimeout(deadline);
      answers.push(JSON.stringify(seen));
      // The first run the stream shows is beta's (its input is in the values), never alpha's earlier one.
      const text = JSON.stringify(seen);
      expect(text).toContain("beta only");
      expect(text).not.toContain("alpha only");
    } finally {
      events.close();
    }
  });

  it("the dashboard shows public ids with their tenant, and opens the tree of the tenant's thread", async () => {
    const shared = freshId();
    await threadWithRun(alpha, shared, "alpha tree");
    const admin = async (path: string) => {
      const res = await fetch(`${t.url}/admin/api${path}`, { headers: { "x-admin-key": ADMIN_KEY } });
      const body = (await res.json()) as any;
      answers.push(JSON.stringify(body));
      return { status: res.status, body };
    };
    // One tenant holds the id: the tree needs no tenant.
    expect((await admin(`/threads/${shared}/tree`)).status).toBe(200);
    await threadWithRun(beta, shared, "beta tree");
    const ambiguous = await admin(`/threads/${shared}/tree`);
    expect(ambiguous.status).toBe(400);
    const trees = await Promise.all(["alpha", "beta"].map((tenant) => admin(`/threads/${shared}/tree?tenant_id=${tenant}`)));
    expect(trees.map((tree) => tree.body.thread_id)).toEqual([shared, shared]);
    expect(trees[0].body.checkpoints.map((c: any) => c.checkpoint_id)).not.toEqual(trees[1].body.checkpoints.map((c: any) => c.checkpoint_id));
    const recent = (await admin(`/runs/recent`)).body.runs as any[];
    expect(recent.filter((r) => r.thread_id === shared).map((r) => r.tenant_id).sort()).toEqual(["alpha", "beta"]);
  });

  // Runs last (jest keeps the order in a file): it reads what every test above was answered.
  it("no answer above names a storage key", () => {
    expect(answers.length).toBeGreaterThan(100);
    const leaks = answers.filter((text) => /\b(alpha|beta):t_tenancy_ids/.test(text));
    expect(leaks).toEqual([]);
  });
});
