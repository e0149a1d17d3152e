/** What the fuzz runs against: tenant A's thread with a finished run, an empty thread, and tenant B's thread. */
export interface FuzzFixture {
  keyA: string;
  keyB: string;
  adminKey: string;
  threadA: string;
  runA: string;
  checkpointA: string;
  emptyThreadA: string;
  /** Tenant A's thread paused before a node (`interrupted`), waiting on no interrupt id. */
  interruptedThreadA: string;
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
  /**
   * Protocol v2 commands: refusals are HTTP 200 error envelopes `{type: "error", id, error, message}` (the
   * shared JSON guards still answer 4xx before the route sees a body).
   */
  envelopes?: boolean;
  /**
   * The route streams SSE for its valid body even on an unknown (or another tenant's, silent) thread: such a
   * 200 is not an accepted bad request, but it must be closable and change nothing.
   */
  streamsValidBody?: boolean;
}

export const UNKNOWN_UUID = "01a00000-0000-7000-8000-000000000000";
export const UNKNOWN_CHECKPOINT = "1f000000-0000-6000-8000-000000000000";
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

/** A thread id nobody created: the id a v2 client mints before its first `run.start` creates the thread. */
export const MINTED_THREAD = "01a00000-0000-7000-8000-00000000f022";
const V2_ERROR_CODES = ["invalid_argument", "unknown_command", "unknown_error", "no_such_run", "no_such_interrupt", "no_such_checkpoint", "permission_denied", "not_supported"];
/** The protocol's error codes a refusal may carry (`unknown_error` is a 5xx in disguise: the test flags it). */
export const PROTOCOL_ERROR_CODES = new Set(V2_ERROR_CODES);

/** The command envelope `{id, method, params}`: what every command route must refuse there. */
function envelopeBadFields(): Array<[string, unknown[]]> {
  return [
    ["id", [undefined, null, -1, 1.5, "7", 1e308, 2 ** 53, true, [7], { n: 7 }]],
    ["method", [undefined, null, "", 5, "run.stop", "RUN.START", " run.start", "__proto__", "constructor", "x".repeat(65), "x".repeat(10_000), ["run.start"]]],
    ["params", [null, "x", 5, true, [1], hugeList(1000, 1)]],
  ];
}

/** `run.start` params: unknown and wrongly typed fields, and every run field the classic schema refuses. */
function runStartBadFields(f: FuzzFixture, mintedThread = false): Array<[string, unknown[]]> {
  return [
    ...envelopeBadFields(),
    ["params", [{}, { input }, { assistant_id: "story", input, stream_mode: ["values"] }]],
    ["params.assistant_id", [undefined, null, 123, "", "no-such-graph", UNKNOWN_UUID, "x".repeat(300), ["story"]]],
    ["params.multitask_strategy", ["sometimes", 1, null]],
    ["params.multitaskStrategy", ["never", 0]],
    ["params.config", ["x", [1], 5, { debug: true }, { callbacks: [] }, { recursion_limit: 0 }, { recursion_limit: 1e308 }, { tags: hugeList(100_000, "t") }, { configurable: { __pregel_send: 1 } }]],
    ["params.config.configurable", ["x", [1], Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i]))]],
    // Tenant A's own checkpoint is a fork point on its thread, but no checkpoint of a thread not created yet.
    ["params.config.configurable.checkpoint_id", [UNKNOWN_CHECKPOINT, f.checkpointB, "not a checkpoint", 5, "", ...(mintedThread ? [f.checkpointA] : [])]],
    ["params.metadata", ["x", [1], 5, { ["k".repeat(300)]: 1 }]],
    ["params.context", ["x", 5, [1]]],
    ["params.interrupt_before", ["llm", [1], hugeList(100, "llm"), { a: 1 }]],
    ["params.interrupt_after", ["llm", [1], 5]],
    // Fields of the classic body that v2 sets itself, and fields nobody knows: refused by name.
    ["params.if_not_exists", ["reject", "create"]],
    ["params.stream_mode", [["values"], "bogus"]],
    ["params.checkpoint_id", [UNKNOWN_CHECKPOINT]],
    ["params.command", [{ resume: 1 }]],
    ["params.forkFrom", [{ checkpoint_id: UNKNOWN_CHECKPOINT }]],
    // Past the 1 MB body limit: a 413 from the body parser.
    ["params.input", ["x".repeat(1_100_000)]],
  ];
}

/** `input.respond` params: malformed answers, and well-formed ones to interrupts the thread does not wait on. */
function inputRespondBadFields(f: FuzzFixture): Array<[string, unknown[]]> {
  return [
    ...envelopeBadFields(),
    [
      "params",
      [
        {},
        { response: 1 },
        { interrupt_id: "nope" },
        { responses: [] },
        { responses: "x" },
        { responses: [{ interrupt_id: "nope", response: 1 }] },
        { responses: [{ interrupt_id: "nope", response: 1 }, { interrupt_id: UNKNOWN_UUID, response: 2 }] },
        { responses: [{ interrupt_id: 5, response: 1 }] },
        { responses: [{ interrupt_id: "nope", response: 1, extra: 1 }] },
        { responses: hugeList(65, { interrupt_id: "nope", response: 1 }) },
        { responses: hugeList(5000, { interrupt_id: "nope", response: 1 }) },
        { interrupt_id: "nope", response: 1, responses: [{ interrupt_id: "nope", response: 1 }] },
        { interrupt_id: "nope", response: 1, strict_resume: "yes" },
        { interrupt_id: "nope", response: 1, update: { messages: [] }, goto: "llm", config: { configurable: { checkpoint_id: f.checkpointB } } },
      ],
    ],
    ["params.interrupt_id", [undefined, null, "", 5, "x".repeat(300), UNKNOWN_UUID, f.runA, f.checkpointA, "__proto__", ["nope"]]],
    ["params.namespace", [5, "ns", [5], hugeList(33, "a"), ["x".repeat(1025)]]],
    ["params.strict_resume", ["yes", 1, null]],
    ["params.extra", [1]],
    ["params.response", ["x".repeat(1_100_000)]],
  ];
}

const commandPath = (threadId: string) => `/threads/${threadId}/commands`;
const runStartBody = () => ({ id: 7, method: "run.start", params: { assistant_id: "story", input, config: quick } });

/** Protocol v2 routes (`POST /threads/{tid}/commands`, `POST /threads/{tid}/stream/events`). */
const PROTOCOL_ROUTES: RouteSpec[] = [
  {
    // A valid run.start on tenant A's thread: each mutation must be what refuses it. Not tenant-scoped: with
    // tenant B's key the id is a free one of B's (thread ids are per tenant), and run.start creates it.
    name: "POST /threads/:tid/commands run.start",
    method: "POST",
    auth: "tenant",
    envelopes: true,
    path: (f) => commandPath(f.threadA),
    // No unknown id here, nor tenant B's (for tenant A a free id too, thread ids being per tenant): a valid
    // run.start there creates the thread (see the minted-thread route).
    badPaths: () => MALFORMED_IDS.map(commandPath),
    body: runStartBody,
    badFields: runStartBadFields,
  },
  {
    // run.start creates its thread lazily: a refused one must leave neither a thread nor a run behind.
    name: "POST /threads/:tid/commands run.start (minted thread)",
    method: "POST",
    auth: "tenant",
    envelopes: true,
    path: () => commandPath(MINTED_THREAD),
    body: runStartBody,
    badFields: (f) => runStartBadFields(f, true),
  },
  {
    // Not waiting on any interrupt id: every answer is to an unknown interrupt (or malformed).
    name: "POST /threads/:tid/commands input.respond",
    method: "POST",
    auth: "tenant",
    tenantScoped: true,
    envelopes: true,
    path: (f) => commandPath(f.interruptedThreadA),
    badPaths: (f) => [...threadIds(f), f.threadA, f.emptyThreadA].map(commandPath),
    body: () => ({ id: 8, method: "input.respond", params: { interrupt_id: "no-such-interrupt", response: { approved: true } } }),
    badFields: inputRespondBadFields,
  },
  {
    name: "POST /threads/:tid/stream/events",
    method: "POST",
    auth: "tenant",
    tenantScoped: true,
    streamsValidBody: true,
    path: (f) => `/threads/${f.threadA}/stream/events`,
    // The unknown id and tenant B's thread stream (silently): the client subscribes before its first run.start.
    badPaths: (f) => threadIds(f).map((id) => `/threads/${id}/stream/events`),
    body: () => ({ channels: ["values", "lifecycle"], namespaces: [[]], depth: 1, since: 0 }),
    badFields: () => [
      ["channels", [undefined, null, [], "values", ["bogus"], [5], [null], [["values"]], ["custom:"], ["Values"], ["x".repeat(300)], hugeList(33, "values"), hugeList(100_000, "values")]],
      ["channels.0", ["", "lifecycle ", "custom:", "__proto__", "messages|values"]],
      ["namespaces", [null, "x", [5], ["a"], [[5]], [["x".repeat(1025)]], [hugeList(33, "a")], hugeList(65, []), hugeList(100_000, [])]],
      ["depth", [null, -1, 1.5, 65, "1", 1e308, true]],
      ["since", [null, -1, 1.5, "0", 1e308, 2 ** 53, [0]]],
      ["extra", [1, null]],
      ["channel", [["values"]]],
      ["since_seq", [0]],
    ],
  },
];

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
    // An existing id, so the valid body is a conflict and no mutation can create a thread by accident. Tenant
    // B's id is not among the bad values: thread ids are per tenant, so for tenant A it is a free one.
    path: () => "/threads",
    body: (f) => ({ thread_id: f.threadA, metadata: { a: 1 } }),
    badFields: (f) => [
      ["thread_id", [f.threadA, "has spaces", 5, "", "x".repeat(300)]],
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
  ...PROTOCOL_ROUTES,
];
