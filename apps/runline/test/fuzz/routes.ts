/** What the fuzz runs against: tenant A's thread with a finished run, an empty thread, and tenant B's thread. */
export interface FuzzFixture {
  keyA: string;
  keyB: string;
  adminKey: string;
  threadA: string;
  runA: string;
  checkpointA: string;
  emptyThreadA: string;
  threadB: string;
  runB: string;
  checkpointB: string;
}

/** Who a route answers: a tenant (x-api-key), the admin key, or anyone. */
export type RouteAuth = "tenant" | "admin" | "open";

/**
 * One route, described so that every request built from it is wrong in exactly one way: the `body` and `path`
 * are valid, and each mutation (see mutations.ts) breaks one thing the route must refuse.
 */
export interface RouteSpec {
  name: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  auth: RouteAuth;
  path(f: FuzzFixture): string;
  /** The same route with ids it must refuse (unknown, another tenant's, malformed). */
  badPaths?(f: FuzzFixture): string[];
  /** A valid JSON body; routes without one get no body mutations. */
  body?(f: FuzzFixture): Record<string, unknown>;
  /** Field (dotted path) → values the route must refuse there. */
  badFields?(f: FuzzFixture): Array<[string, unknown[]]>;
  /** Query strings the route must refuse. */
  badQueries?: string[];
  /** The path holds tenant A's ids, so tenant B's key must get a 404. */
  tenantScoped?: boolean;
  /** Streams SSE from a Last-Event-ID. */
  resumable?: boolean;
  /** Headers every request to the route carries (besides auth). */
  headers?: Record<string, string>;
}

const UNKNOWN_UUID = "01a00000-0000-7000-8000-000000000000";
const UNKNOWN_CHECKPOINT = "1f000000-0000-6000-8000-000000000000";
/** Ids that are not ids: refused by the path schema (or unknown), never a 5xx. */
const MALFORMED_IDS = ["has%20space", "%00", "a%00b", "x".repeat(300), "%F0%9F%98%80", "..%2F..%2Fetc", "%C3%A9t%C3%A9"];

const threadIds = (f: FuzzFixture) => [UNKNOWN_UUID, f.threadB, ...MALFORMED_IDS];
const runIds = (f: FuzzFixture) => [UNKNOWN_UUID, f.runB, ...MALFORMED_IDS];

const input = { messages: [{ role: "user", content: "hello" }] };
const quick = { configurable: { story_tokens: 2, story_token_delay_ms: 0 } };
const wrongTypes = [123, true, "string", [1], { a: 1 }];
const hugeList = (n: number, item: unknown = "values") => Array(n).fill(item);

/** Fields every RunCreate route must refuse, with values the probe and the schema's bounds name. */
function runCreateBadFields(f: FuzzFixture): Array<[string, unknown[]]> {
  return [
    ["assistant_id", [123, "", "no-such-graph", "x".repeat(300), null]],
    ["stream_mode", ["bogus", 7, ["values", "nope"], hugeList(10_000), [["values"]]]],
    ["config", ["x", [1], { debug: true }, { callbacks: [] }, { configurable: { __pregel_send: 1 } }, { configurable: { __x: 1 } }]],
    ["config.recursion_limit", [0, -1, 1.5, 1e308, 1_000_000, "25"]],
    ["config.tags", [hugeList(100_000, "t"), [1], "tag", ["x".repeat(300)]]],
    ["config.configurable", ["x", [1], Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i]))]],
    ["config.configurable.checkpoint_id", [UNKNOWN_CHECKPOINT, f.checkpointB, "not a checkpoint", 5]],
    ["checkpoint_id", [UNKNOWN_CHECKPOINT, f.checkpointB, "", 5, "a b"]],
    ["checkpoint", [{ checkpoint_id: UNKNOWN_CHECKPOINT }, { checkpoint_id: f.checkpointB }, { checkpoint_ns: "" }, "x"]],
    ["after_seconds", [1e308, -1, 86_401, "10", true]],
    ["multitask_strategy", ["sometimes", 1]],
    ["on_disconnect", ["maybe"]],
    ["if_not_exists", ["perhaps"]],
    ["interrupt_before", ["llm", hugeList(100, "llm"), [1]]],
    ["metadata", ["x", [1], { ["k".repeat(300)]: 1 }]],
    ["context", ["x", 5]],
    ["webhook", ["http://127.0.0.1:9/hook", 5]],
    ["feedback_keys", [["a"], "a"]],
    ["command", ["resume", 5, [1]]],
    ["stream_subgraphs", ["yes", 1]],
    ["durability", ["forever"]],
  ];
}

const threadRunsPath = (f: FuzzFixture) => `/threads/${f.threadA}/runs`;

/** Every route the API serves, tenant, admin and open ones. */
export const ROUTES: RouteSpec[] = [
  // Open meta routes: only the query boundary can refuse anything there.
  { name: "GET /ok", method: "GET", auth: "open", path: () => "/ok" },
  { name: "GET /info", method: "GET", auth: "open", path: () => "/info" },
  { name: "GET /healthz", method: "GET", auth: "open", path: () => "/healthz" },
  { name: "GET /nope", method: "GET", auth: "open", path: () => "/nope", badPaths: () => ["/nope/%00", "/threads/a/b/c/d", "/" + "x".repeat(2000)] },
  // Admin routes (behind the admin key; mounted before the body parser).
  { name: "GET /metrics", method: "GET", auth: "admin", path: () => "/metrics" },
  { name: "GET /admin/dashboard", method: "GET", auth: "admin", path: () => "/admin/dashboard" },
  { name: "GET /admin/api/overview", method: "GET", auth: "admin", path: () => "/admin/api/overview", badQueries: ["status=nope", "limit=0", "limit=abc", "limit=1e309", "limit=501", "status=running", "limit=1&limit=2"] },
  { name: "GET /admin/api/runs/recent", method: "GET", auth: "admin", path: () => "/admin/api/runs/recent", badQueries: ["status=pending", "limit=-1", "limit=1.5"] },
  { name: "GET /admin/api/workers", method: "GET", auth: "admin", path: () => "/admin/api/workers" },
  {
    name: "GET /admin/api/threads/:tid/tree",
    method: "GET",
    auth: "admin",
    path: (f) => `/admin/api/threads/${f.threadA}/tree`,
    badPaths: (f) => [UNKNOWN_UUID, ...MALFORMED_IDS].map((id) => `/admin/api/threads/${id}/tree`),
  },
  { name: "GET /admin/api/runs/:rid", method: "GET", auth: "admin", path: (f) => `/admin/api/runs/${f.runA}`, badPaths: () => [UNKNOWN_UUID, ...MALFORMED_IDS].map((id) => `/admin/api/runs/${id}`) },
  {
    name: "GET /admin/api/runs/:rid/stream",
    method: "GET",
    auth: "admin",
    resumable: true,
    path: (f) => `/admin/api/runs/${f.runA}/stream`,
    badPaths: () => [UNKNOWN_UUID, ...MALFORMED_IDS].map((id) => `/admin/api/runs/${id}/stream`),
  },
  {
    name: "POST /admin/api/runs/:rid/cancel",
    method: "POST",
    auth: "admin",
    headers: { "x-runline-dashboard": "1" },
    path: (f) => `/admin/api/runs/${f.runA}/cancel`,
    badPaths: () => [UNKNOWN_UUID, ...MALFORMED_IDS].map((id) => `/admin/api/runs/${id}/cancel`),
    badQueries: ["action=explode", "wait=maybe", "action=interrupt&action=rollback"],
  },
  // Assistants.
  { name: "GET /assistants/:id", method: "GET", auth: "tenant", path: () => "/assistants/story", badPaths: () => ["/assistants/nope", "/assistants/%00", `/assistants/${"x".repeat(300)}`, `/assistants/${UNKNOWN_UUID}`] },
  { name: "GET /assistants/:id/graph", method: "GET", auth: "tenant", path: () => "/assistants/story/graph", badPaths: () => ["/assistants/nope/graph", "/assistants/a%00/graph"] },
  { name: "GET /assistants/:id/schemas", method: "GET", auth: "tenant", path: () => "/assistants/story/schemas", badPaths: () => ["/assistants/nope/schemas"] },
  {
    name: "POST /assistants/search",
    method: "POST",
    auth: "tenant",
    path: () => "/assistants/search",
    body: () => ({ graph_id: "story", limit: 10 }),
    badFields: () => [
      ["limit", [-1, 0, 1e308, "10", 1001]],
      ["offset", [-1, 1.5, "0"]],
      ["graph_id", [5, ["story"]]],
      ["metadata", ["x", [1]]],
      ["sort_by", ["color"]],
      ["select", [hugeList(1000, "a"), "a"]],
    ],
  },
  // Threads.
  {
    name: "POST /threads",
    method: "POST",
    auth: "tenant",
    // An existing id, so the valid body is a conflict and no mutation can create a thread by accident.
    path: () => "/threads",
    body: (f) => ({ thread_id: f.threadA, metadata: { a: 1 } }),
    badFields: (f) => [
      ["thread_id", [f.threadA, f.threadB, "has spaces", 5, "", "x".repeat(300)]],
      ["metadata", ["x", [1], 5, Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i]))]],
      ["if_exists", ["sometimes", 1]],
    ],
  },
  {
    name: "POST /threads/search",
    method: "POST",
    auth: "tenant",
    path: () => "/threads/search",
    body: () => ({ limit: 10 }),
    badFields: () => [
      ["limit", [0, -1, 1e308, 1001, "10", 1.5]],
      ["offset", [-1, 1e308, 1_000_001]],
      ["ids", [hugeList(5000, "a"), ["has space"], "a"]],
      ["status", ["sleepy", 1]],
      ["values", [{ a: 1 }]],
      ["metadata", ["x", 5]],
      ["sort_by", ["color"]],
      ["sort_order", ["sideways"]],
    ],
  },
  { name: "POST /threads/count", method: "POST", auth: "tenant", path: () => "/threads/count", body: () => ({}), badFields: () => [["status", ["sleepy"]], ["metadata", ["x"]], ["values", [{}]]] },
  { name: "GET /threads/:tid", method: "GET", auth: "tenant", tenantScoped: true, path: (f) => `/threads/${f.threadA}`, badPaths: (f) => threadIds(f).map((id) => `/threads/${id}`) },
  {
    name: "PATCH /threads/:tid",
    method: "PATCH",
    auth: "tenant",
    tenantScoped: true,
    path: (f) => `/threads/${f.threadA}`,
    badPaths: (f) => threadIds(f).map((id) => `/threads/${id}`),
    body: () => ({ metadata: { b: 2 } }),
    badFields: () => [["metadata", ["x", null, [1], 5]]],
  },
  { name: "DELETE /threads/:tid", method: "DELETE", auth: "tenant", tenantScoped: true, path: (f) => `/threads/${f.threadA}`, badPaths: (f) => threadIds(f).map((id) => `/threads/${id}`) },
  { name: "GET /threads/:tid/state", method: "GET", auth: "tenant", tenantScoped: true, path: (f) => `/threads/${f.threadA}/state`, badPaths: (f) => threadIds(f).map((id) => `/threads/${id}/state`) },
  {
    name: "POST /threads/:tid/state",
    method: "POST",
    auth: "tenant",
    tenantScoped: true,
    path: (f) => `/threads/${f.threadA}/state`,
    badPaths: (f) => [...threadIds(f).map((id) => `/threads/${id}/state`), `/threads/${f.emptyThreadA}/state`],
    body: () => ({ values: { messages: [] } }),
    badFields: (f) => [
      ["values", [123, "abc", true, [1, 2]]],
      ["values.messages", [5, [{ role: "wizard", content: "x" }], [7], [{ content: 5 }]]],
      ["as_node", ["nope", "agent", 5, ""]],
      ["checkpoint_id", [UNKNOWN_CHECKPOINT, f.checkpointB, "bad id"]],
      ["checkpoint", [{ checkpoint_id: UNKNOWN_CHECKPOINT }, { checkpoint_id: f.checkpointB }, "x"]],
    ],
  },
  {
    name: "POST /threads/:tid/state/checkpoint",
    method: "POST",
    auth: "tenant",
    tenantScoped: true,
    path: (f) => `/threads/${f.threadA}/state/checkpoint`,
    badPaths: (f) => threadIds(f).map((id) => `/threads/${id}/state/checkpoint`),
    body: (f) => ({ checkpoint: { checkpoint_id: f.checkpointA } }),
    badFields: (f) => [
      ["checkpoint", [null, "x", {}, { checkpoint_id: UNKNOWN_CHECKPOINT }, { checkpoint_id: f.checkpointB }]],
      ["checkpoint.checkpoint_ns", [5, "x".repeat(2000)]],
      ["subgraphs", ["yes"]],
    ],
  },
  {
    name: "GET /threads/:tid/state/:cid",
    method: "GET",
    auth: "tenant",
    tenantScoped: true,
    path: (f) => `/threads/${f.threadA}/state/${f.checkpointA}`,
    badPaths: (f) => [UNKNOWN_CHECKPOINT, f.checkpointB, ...MALFORMED_IDS].map((id) => `/threads/${f.threadA}/state/${id}`),
  },
  {
    name: "POST /threads/:tid/history",
    method: "POST",
    auth: "tenant",
    tenantScoped: true,
    path: (f) => `/threads/${f.threadA}/history`,
    badPaths: (f) => threadIds(f).map((id) => `/threads/${id}/history`),
    body: () => ({ limit: 10 }),
    badFields: () => [
      ["limit", [0, -5, 1e308, 1001, "10"]],
      ["before", [5, "bad id", { configurable: {} }, [1]]],
      ["metadata", ["x"]],
      ["checkpoint", ["x", { checkpoint_ns: 5 }]],
    ],
  },
  {
    name: "GET /threads/:tid/history",
    method: "GET",
    auth: "tenant",
    tenantScoped: true,
    path: (f) => `/threads/${f.threadA}/history`,
    badPaths: (f) => threadIds(f).map((id) => `/threads/${id}/history`),
    badQueries: ["limit=abc", "limit=0", "limit=1e309", "limit=1001", "before=bad%20id", "before=%00", "limit=1&limit=2", "before=a&before=b"],
  },
  // Runs on a thread.
  ...(["", "/stream", "/wait"] as const).map(
    (suffix): RouteSpec => ({
      name: `POST /threads/:tid/runs${suffix}`,
      method: "POST",
      auth: "tenant",
      tenantScoped: true,
      path: (f) => `${threadRunsPath(f)}${suffix}`,
      badPaths: (f) => threadIds(f).map((id) => `/threads/${id}/runs${suffix}`),
      // A valid run: every mutation must be what stops it (a bug shows as an accepted request, or a new row).
      body: () => ({ assistant_id: "story", input, config: quick }),
      badFields: runCreateBadFields,
    }),
  ),
  // Stateless runs: a refused one must leave no thread behind.
  ...(["", "/stream", "/wait"] as const).map(
    (suffix): RouteSpec => ({
      name: `POST /runs${suffix}`,
      method: "POST",
      auth: "tenant",
      path: () => `/runs${suffix}`,
      body: () => ({ assistant_id: "story", input, config: quick }),
      badFields: runCreateBadFields,
    }),
  ),
  {
    name: "POST /runs/cancel",
    method: "POST",
    auth: "tenant",
    path: () => "/runs/cancel",
    body: (f) => ({ run_ids: [f.runA] }),
    badFields: (f) => [
      ["run_ids", [hugeList(5000, f.runA), ["has space"], f.runA, [5]]],
      ["status", ["sleeping", 1]],
      ["thread_id", [5, "has space"]],
    ],
    badQueries: ["action=explode", "action=interrupt&action=rollback"],
  },
  {
    name: "GET /threads/:tid/runs",
    method: "GET",
    auth: "tenant",
    tenantScoped: true,
    path: threadRunsPath,
    badPaths: (f) => threadIds(f).map((id) => `/threads/${id}/runs`),
    badQueries: ["limit=-3", "limit=abc", "limit=1e309", "limit=100000", "offset=-1", "offset=1.5", "status=sleepy", "limit=1&limit=2"],
  },
  ...(["", "/join", "/stream"] as const).map(
    (suffix): RouteSpec => ({
      name: `GET /threads/:tid/runs/:rid${suffix}`,
      method: "GET",
      auth: "tenant",
      tenantScoped: true,
      resumable: suffix === "/stream",
      path: (f) => `${threadRunsPath(f)}/${f.runA}${suffix}`,
      badPaths: (f) => [
        ...threadIds(f).map((id) => `/threads/${id}/runs/${f.runA}${suffix}`),
        ...runIds(f).map((id) => `${threadRunsPath(f)}/${id}${suffix}`),
      ],
      badQueries:
        suffix === "" ? [] : ["cancel_on_disconnect=maybe", ...(suffix === "/stream" ? ["stream_mode=%5Bgarbage", "stream_mode=bogus", "stream_mode=%5B%5B1%5D%5D", `stream_mode=${"values,".repeat(500)}`] : [])],
    }),
  ),
  { name: "DELETE /threads/:tid/runs/:rid", method: "DELETE", auth: "tenant", tenantScoped: true, path: (f) => `${threadRunsPath(f)}/${f.runA}`, badPaths: (f) => runIds(f).map((id) => `${threadRunsPath(f)}/${id}`) },
  {
    name: "POST /threads/:tid/runs/:rid/cancel",
    method: "POST",
    auth: "tenant",
    tenantScoped: true,
    path: (f) => `${threadRunsPath(f)}/${f.runA}/cancel`,
    badPaths: (f) => runIds(f).map((id) => `${threadRunsPath(f)}/${id}/cancel`),
    badQueries: ["wait=maybe", "action=explode", "wait=2"],
  },
];
