/**
 * The run dashboard's thread tree (`GET /admin/api/threads/{tid}/tree`) and worker liveness (`GET
 * /admin/api/workers`), over HTTP with the admin key. Every wait is on something the server reports, never a fixed
 * sleep.
 */
import { hostname } from "node:os";
import { createTestNamespace, waitFor, type TestNamespace } from "@runline/testing";
import { cancel, newThread, slowStory, startLiveRun } from "./cancel-helpers";
import { startTestRunline, userInput, type TestRunline } from "./harness";

const ADMIN_KEY = "ops-tree-admin-key-0123456789abcdef";
const admin = async (t: TestRunline, path: string) => {
  const res = await fetch(`${t.url}/admin/api${path}`, { headers: { "x-admin-key": ADMIN_KEY } });
  return { status: res.status, body: (await res.json()) as any };
};

describe("thread tree", () => {
  let t: TestRunline;
  beforeAll(async () => {
    t = await startTestRunline("ops-tree", { RUNLINE_ADMIN_KEY: ADMIN_KEY, RUNLINE_API_KEYS: "tree-key-main-0123456789abcdef:tenant-main,tree-key-a-0123456789abcdef:tenant-a" });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  }, 60_000);

  it("needs the admin key, and an unknown thread is 404", async () => {
    expect((await fetch(`${t.url}/admin/api/threads/whatever/tree`)).status).toBe(401);
    const missing = await admin(t, "/threads/00000000-0000-0000-0000-000000000000/tree");
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("THREAD_NOT_FOUND");
  });

  it("after an interrupt: the partial checkpoint is marked, with its parent, and it is the head", async () => {
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "tell me a story");
    await live.readTokens(5);
    const res = await cancel(t, live, "wait=1&action=interrupt");
    expect(res.body).toMatchObject({ outcome: "cancelled", status: "interrupted" });
    const partial = res.body.partial;
    await live.readToEnd();

    const tree = await admin(t, `/threads/${threadId}/tree`);
    expect(tree.status).toBe(200);
    const byId = new Map<string, any>(tree.body.checkpoints.map((c: any) => [c.checkpoint_id, c]));
    const node = byId.get(partial.checkpoint_id);
    expect(node).toBeDefined();
    expect(node.partial).toEqual({ token_count: partial.token_count, run_id: live.runId, action: "interrupt" });
    expect(node.last_message.type).toBe("ai");
    expect(node.last_message.text.length).toBeGreaterThan(0);
    expect(node.last_message.text.length).toBeLessThanOrEqual(80);
    expect(node.message_count).toBe(2);
    expect(typeof node.created_at).toBe("string");

    const parent = byId.get(node.parent_id);
    expect(parent).toBeDefined();
    expect(parent.partial).toBeNull();
    expect(parent.children).toContain(partial.checkpoint_id);
    expect(node.depth).toBe(parent.depth + 1);
    // Listed depth-first: a parent comes before its children.
    const order = tree.body.checkpoints.map((c: any) => c.checkpoint_id);
    expect(order.indexOf(parent.checkpoint_id)).toBeLessThan(order.indexOf(node.checkpoint_id));

    const state = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(tree.body.head).toBe(state.checkpoint.checkpoint_id);
    expect(byId.get(tree.body.head).head).toBe(true);
    expect(tree.body.checkpoints.filter((c: any) => c.head)).toHaveLength(1);
    expect(node.on_head_path).toBe(true);
    // Every checkpoint of the history is in the tree, once.
    const history = (await t.api.post(`/threads/${threadId}/history`, { limit: 100 })).body;
    expect(new Set(order)).toEqual(new Set(history.map((s: any) => s.checkpoint.checkpoint_id)));
    expect(order).toHaveLength(new Set(order).size);
  });

  it("after a rollback: the head is off the partial's branch", async () => {
    const threadId = await newThread(t);
    const first = await t.api.post(`/threads/${threadId}/runs/wait`, {
      assistant_id: "story",
      input: userInput("first"),
      config: { configurable: { story_tokens: 4, story_token_delay_ms: 0 } },
    });
    expect(first.status).toBe(200);
    const live = await startLiveRun(t, threadId, "second");
    await live.readTokens(5);
    const res = await cancel(t, live, "wait=1&action=rollback");
    expect(res.body).toMatchObject({ outcome: "cancelled", status: "interrupted", action: "rollback" });
    const partial = res.body.partial;
    await live.readToEnd();

    const tree = (await admin(t, `/threads/${threadId}/tree`)).body;
    const byId = new Map<string, any>(tree.checkpoints.map((c: any) => [c.checkpoint_id, c]));
    const state = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(tree.head).toBe(state.checkpoint.checkpoint_id);
    expect(tree.head).not.toBe(partial.checkpoint_id);
    const head = byId.get(tree.head);
    expect(head.head).toBe(true);
    expect(head.partial).toBeNull();
    expect(head.last_message.type).toBe("ai");
    expect(head.message_count).toBe(2);

    const marked = byId.get(partial.checkpoint_id);
    expect(marked.partial).toMatchObject({ run_id: live.runId, action: "rollback", token_count: partial.token_count });
    expect(marked.head).toBe(false);
    expect(marked.on_head_path).toBe(false);
    expect(byId.get(marked.parent_id)).toBeDefined();
    expect(marked.message_count).toBe(4);
  });

  it("reads any tenant's thread", async () => {
    const other = { ...t.api.headers, "x-api-key": "tree-key-a-0123456789abcdef", "content-type": "application/json" };
    const created = await (await fetch(`${t.url}/threads`, { method: "POST", headers: other, body: "{}" })).json();
    const done = await fetch(`${t.url}/threads/${created.thread_id}/runs/wait`, {
      method: "POST",
      headers: other,
      body: JSON.stringify({ assistant_id: "story", input: userInput("hi"), config: { configurable: { story_tokens: 3, story_token_delay_ms: 0 } } }),
    });
    expect(done.status).toBe(200);
    await done.text(); // /wait answers 200 at once and sends the result when the run ends
    // Not visible to the other tenant's key…
    expect((await t.api.get(`/threads/${created.thread_id}`)).status).toBe(404);
    // …but the admin sees it.
    const tree = await admin(t, `/threads/${created.thread_id}/tree`);
    expect(tree.status).toBe(200);
    expect(tree.body.checkpoints.length).toBeGreaterThan(1);
    expect(tree.body.checkpoints.find((c: any) => c.head).last_message.type).toBe("ai");
  });
});

describe("worker liveness", () => {
  let ns: TestNamespace;
  let worker: TestRunline | undefined;
  let api: TestRunline | undefined;
  beforeAll(async () => {
    ns = await createTestNamespace("ops-workers");
    // A worker process (role all, with its own API) and an API-only process that outlives it.
    worker = await startTestRunline("ops-workers", { RUNLINE_ADMIN_KEY: ADMIN_KEY }, ns);
    api = await startTestRunline("ops-workers-api", { RUNLINE_ADMIN_KEY: ADMIN_KEY, RUNLINE_ROLE: "api" }, ns);
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await ns?.cleanup();
  }, 60_000);

  it("lists the worker with the run it streams, and none once it closed", async () => {
    expect((await fetch(`${api!.url}/admin/api/workers`)).status).toBe(401);
    const { workers: listed, unreachable_nodes } = (await admin(api!, "/workers")).body;
    expect(unreachable_nodes).toEqual([]);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ concurrency: expect.any(Number), active_run_ids: [] });
    expect(listed[0].worker_id).toMatch(new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${process.pid}(#\\d+)?$`));
    expect(Date.parse(listed[0].started_at)).toBeLessThanOrEqual(Date.now());
    expect(listed[0].age_ms).toBeGreaterThanOrEqual(0);

    const threadId = await newThread(worker!);
    const created = await worker!.api.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("a long one"), config: slowStory(300, 20) });
    expect(created.status).toBe(200);
    const runId = created.body.run_id as string;
    const busy = await waitFor(
      async () => {
        const workers = (await admin(api!, "/workers")).body.workers;
        return workers.length === 1 && workers[0].active_run_ids.includes(runId) ? workers[0] : undefined;
      },
      { what: "the worker to list the run as active" },
    );
    expect(busy.active_run_ids).toEqual([runId]);
    // Still running while it is listed.
    expect((await worker!.api.get(`/threads/${threadId}/runs/${runId}`)).body.status).toBe("running");

    const stopped = await cancel(worker!, { threadId, runId }, "wait=1&action=interrupt");
    expect(stopped.body.status).toBe("interrupted");
    await waitFor(
      async () => {
        const workers = (await admin(api!, "/workers")).body.workers;
        return workers.length === 1 && workers[0].active_run_ids.length === 0;
      },
      { what: "the worker to list no active run" },
    );

    await worker!.close();
    worker = undefined;
    // Removed on the clean shutdown itself: no waiting for the TTL.
    expect((await admin(api!, "/workers")).body.workers).toEqual([]);
  });
});
