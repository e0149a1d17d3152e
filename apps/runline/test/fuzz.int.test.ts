import { quotaKeys } from "@runline/api-app";
import { waitFor } from "@runline/testing";
import { generateRequests, sweepRequests, type FuzzRequest } from "./fuzz/mutations";
import { createPrng } from "./fuzz/prng";
import { MINTED_THREAD, PROTOCOL_ERROR_CODES, ROUTES, UNKNOWN_CHECKPOINT, UNKNOWN_UUID, type FuzzFixture, type RouteSpec } from "./fuzz/routes";
import { diffSnapshots, takeSnapshot, type StateSnapshot } from "./fuzz/state-snapshot";
import { apiClient, startTestRunline, userInput, type TestRunline } from "./harness";

/**
 * Hostile input over every route (issue #9): every listed bad value once (the sweep), then 600 seeded random
 * requests, each wrong in one way (NULs, lone surrogates, deep nesting, non-finite and out-of-range numbers,
 * wrong types and content types, garbage queries and headers, unknown, malformed and other tenants' ids).
 * Every one must be a 4xx with a small problem+json body, and none may change Postgres or Redis. The protocol
 * v2 routes refuse their own way: a command gets an HTTP 200 error envelope (the SDK reads any other status as
 * a transport failure), and a valid subscription to a thread with no run of the tenant's yet streams (closed
 * at once here, and it must change nothing either).
 */
const SEED = 20261201;
const RANDOM_REQUESTS = 600;
/** The largest error body we accept: validation answers are capped (20 issues, truncated messages). */
const MAX_ERROR_BODY = 10_000;

let t: TestRunline;
let fixture: FuzzFixture;
const keys = { keyA: "fuzz-key-a", keyB: "fuzz-key-b", adminKey: "fuzz-admin-key-0123456789" };
const quick = { configurable: { story_tokens: 3, story_token_delay_ms: 0 } };

const snapshot = () => takeSnapshot(t.ns.pool, t.ns.redis, t.ns.redisPrefix);

/** Waits until two snapshots 100 ms apart agree: no run or write in flight. */
async function settle(): Promise<StateSnapshot> {
  let last = await snapshot();
  await waitFor(
    async () => {
      await new Promise((r) => setTimeout(r, 100));
      const next = await snapshot();
      const same = diffSnapshots(last, next).length === 0;
      last = next;
      return same;
    },
    { what: "state settled", timeoutMs: 10_000 },
  );
  return last;
}

async function finishedThread(key: string): Promise<{ threadId: string; runId: string; checkpointId: string }> {
  const api = apiClient(t.url, key);
  const threadId = (await api.post("/threads", {})).body.thread_id;
  await api.post(`/threads/${threadId}/runs/wait`, { assistant_id: "story", input: userInput("fixture"), config: quick });
  const runId = (await api.get(`/threads/${threadId}/runs`)).body[0].run_id;
  const checkpointId = (await api.get(`/threads/${threadId}/state`)).body.checkpoint.checkpoint_id;
  return { threadId, runId, checkpointId };
}

beforeAll(async () => {
  t = await startTestRunline("fuzz", { RUNLINE_API_KEYS: `${keys.keyA}:alpha,${keys.keyB}:beta`, RUNLINE_ADMIN_KEY: keys.adminKey });
  const a = await finishedThread(keys.keyA);
  const b = await finishedThread(keys.keyB);
  const apiA = apiClient(t.url, keys.keyA);
  const emptyThreadA = (await apiA.post("/threads", {})).body.thread_id;
  const interruptedThreadA = (await apiA.post("/threads", {})).body.thread_id;
  await apiA.post(`/threads/${interruptedThreadA}/runs/wait`, { assistant_id: "story", input: userInput("paused"), config: quick, interrupt_before: ["llm"] });
  expect((await apiA.get(`/threads/${interruptedThreadA}`)).body.status).toBe("interrupted");
  expect((await apiA.get(`/threads/${MINTED_THREAD}`)).status).toBe(404);
  // The fixture's run creations opened rate-limiter windows that expire a minute later; a fuzz slowed down by a
  // loaded machine outlasts them, and the expiry would read as a state change. Forget them: a request wrongly
  // counted as a creation still shows, as a new key.
  await t.ns.redis.del(...["alpha", "beta"].map((tenant) => `${quotaKeys(t.ns.redisPrefix).runCreationsPrefix}:${tenant}`));
  fixture = { ...keys, threadA: a.threadId, runA: a.runId, checkpointA: a.checkpointId, emptyThreadA, interruptedThreadA, threadB: b.threadId, runB: b.runId, checkpointB: b.checkpointId };
});
afterAll(async () => {
  await t.close();
});

interface Answer {
  status: number;
  text: string;
  contentType: string;
  /** A 200 SSE response: closed by us as soon as its headers came (its body is never read). */
  streamed: boolean;
}

/** Status 0 = no complete answer within 5 s (a stream left open on bad input, say): a failure like a 5xx. */
async function send(req: FuzzRequest): Promise<Answer> {
  const close = new AbortController();
  try {
    const signal = AbortSignal.any([AbortSignal.timeout(5_000), close.signal]);
    const res = await fetch(t.url + req.path, { method: req.method, headers: req.headers, body: req.body, redirect: "manual", signal });
    const contentType = res.headers.get("content-type") ?? "";
    if (res.status === 200 && contentType.startsWith("text/event-stream")) {
      close.abort();
      return { status: res.status, text: "", contentType, streamed: true };
    }
    return { status: res.status, text: await res.text(), contentType, streamed: false };
  } catch (err) {
    if ((err as Error).name !== "TimeoutError") throw err;
    return { status: 0, text: "", contentType: "", streamed: false };
  }
}

/** The id a command reply must echo: the request's own when it is a valid one, else null. */
function commandId(body: string | undefined): number | null {
  try {
    const id = (JSON.parse(body ?? "null") as { id?: unknown } | null)?.id;
    return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : null;
  } catch {
    return null;
  }
}

type Verdict = "refused" | "accepted" | "server error" | "bad body" | "stream";

/**
 * How a route answered one hostile request. A 4xx must be a small problem+json; on a command route a 200 must
 * be an error envelope echoing the request's id (`unknown_error` is an unexpected failure: a 5xx in disguise);
 * a 200 SSE stream counts only for the route's own valid body (a subscription to a thread with no run yet).
 */
function judge(spec: RouteSpec, req: FuzzRequest, res: Answer): Verdict {
  if (res.status >= 500 || res.status === 0) return "server error";
  if (res.streamed) {
    const validBody = req.body === JSON.stringify(spec.body?.(fixture)) && req.headers["content-type"] === "application/json";
    return spec.streamsValidBody && validBody ? "stream" : "accepted";
  }
  if (spec.envelopes && res.status === 200) {
    let reply: { type?: unknown; id?: unknown; error?: unknown; message?: unknown };
    try {
      reply = JSON.parse(res.text) as typeof reply;
    } catch {
      return "bad body";
    }
    if (reply.type !== "error") return "accepted";
    if (reply.error === "unknown_error") return "server error";
    const wellFormed = typeof reply.error === "string" && PROTOCOL_ERROR_CODES.has(reply.error) && typeof reply.message === "string" && reply.id === commandId(req.body);
    return wellFormed && res.text.length <= MAX_ERROR_BODY ? "refused" : "bad body";
  }
  if (res.status < 400) return "accepted";
  const problem = /problem\+json/.test(res.contentType) ? (JSON.parse(res.text) as { code?: unknown }) : null;
  return problem && typeof problem.code === "string" && res.text.length <= MAX_ERROR_BODY ? "refused" : "bad body";
}

/** The error code of a problem+json answer or a command's error envelope; null otherwise. */
function problemCode(res: Answer): string | null {
  try {
    const body = JSON.parse(res.text) as { code?: unknown; type?: unknown; error?: unknown };
    if (typeof body?.code === "string") return body.code;
    return body?.type === "error" && typeof body.error === "string" ? body.error : null;
  } catch {
    return null;
  }
}

/** Open SSE responses, from the API's own gauge. */
async function openStreams(): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`, { headers: { "x-admin-key": keys.adminKey } })).text();
  return Number(/^runline_sse_subscribers(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? NaN);
}

/** The request with tenant B's ids swapped for ids nobody has: what it must be answered like (no oracle). */
const unknownTwin = (req: FuzzRequest) => {
  const swap = (text: string) =>
    text.split(fixture.threadB).join(UNKNOWN_UUID).split(fixture.runB).join(UNKNOWN_UUID).split(fixture.checkpointB).join(UNKNOWN_CHECKPOINT);
  return `${req.route} ${req.mutation} ${swap(req.path)} ${swap(req.body ?? "")} ${JSON.stringify(req.headers)}`;
};
const namesTenantB = (req: FuzzRequest) => [fixture.threadB, fixture.runB, fixture.checkpointB].some((id) => req.path.includes(id) || req.body?.includes(id));

const describeRequest = (req: FuzzRequest, status: number) =>
  `${status} ${req.route} [${req.mutation}] ${req.method} ${req.path.slice(0, 120)} ${(req.body ?? "").slice(0, 120)}`;

describe("hostile input over every route", () => {
  it("every route refuses malformed requests: 0 × 5xx, 0 accepted, 0 state changes", async () => {
    const requests = [...sweepRequests(ROUTES, fixture), ...generateRequests(ROUTES, fixture, createPrng(SEED), RANDOM_REQUESTS)];
    expect(new Set(requests.map((r) => r.route))).toEqual(new Set(ROUTES.map((r) => r.name)));

    let baseline = await settle();
    const specs = new Map(ROUTES.map((r) => [r.name, r]));
    /** 5xx (and `unknown_error` envelopes), and requests left without an answer. */
    const serverErrors: string[] = [];
    const accepted: string[] = [];
    const stateChanges: string[] = [];
    const badBodies: string[] = [];
    const statuses: Record<number, number> = {};
    let envelopes = 0;
    let streams = 0;
    let largestErrorBody = 0;
    /** Answers by request, tenant B's ids swapped for unknown ones: the twins compared below. */
    const answered = new Map<string, { status: number; code: string | null }>();
    const withTenantB: Array<{ req: FuzzRequest; status: number; code: string | null }> = [];
    for (const req of requests) {
      const spec = specs.get(req.route)!;
      const res = await send(req);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const code = problemCode(res);
      if (namesTenantB(req)) withTenantB.push({ req, status: res.status, code });
      else answered.set(unknownTwin(req), { status: res.status, code });
      const verdict = judge(spec, req, res);
      if (verdict === "server error") serverErrors.push(`${describeRequest(req, res.status)} ${res.text.slice(0, 200)}`);
      else if (verdict === "accepted") accepted.push(`${describeRequest(req, res.status)} → ${res.text.slice(0, 200)}`);
      else if (verdict === "bad body") badBodies.push(`${describeRequest(req, res.status)} → ${res.text.slice(0, 200)}`);
      else if (verdict === "stream") streams++;
      if (verdict === "refused" || verdict === "bad body") largestErrorBody = Math.max(largestErrorBody, res.text.length);
      if (verdict === "refused" && res.status === 200) envelopes++;
      // An accepted request (a bug), a 5xx or a closed stream may go on writing after it answered: wait for that
      // to end, so its writes are charged to it and not to the next request.
      const after = verdict === "refused" || verdict === "bad body" ? await snapshot() : await settle();
      const diff = diffSnapshots(baseline, after);
      if (diff.length && verdict !== "accepted") stateChanges.push(`${describeRequest(req, res.status)}: ${diff.join("; ")}`);
      baseline = after;
    }
    // Anything a request set off after answering shows here.
    const late = diffSnapshots(baseline, await settle());
    if (late.length) stateChanges.push(`after the last request: ${late.join("; ")}`);

    // Every stream the fuzz opened is closed on the server too.
    await waitFor(async () => (await openStreams()) === 0, { what: "no SSE stream left open", timeoutMs: 10_000 });

    // Another tenant's ids are answered exactly like ids nobody has (issue #9, "No oracle"): same status, same code.
    const oracles = withTenantB.flatMap(({ req, status, code }) => {
      const twin = answered.get(unknownTwin(req));
      return twin && (twin.status !== status || twin.code !== code) ? [`${describeRequest(req, status)} ${code} ≠ unknown id's ${twin.status} ${twin.code}`] : [];
    });
    const comparedTwins = withTenantB.filter(({ req }) => answered.has(unknownTwin(req))).length;

    const summary = { seed: SEED, requests: requests.length, comparedTwins, oracles: oracles.length, routes: ROUTES.length, serverErrors: serverErrors.length, accepted: accepted.length, stateChanges: stateChanges.length, envelopes, streams, largestErrorBody, statuses };
    if (process.env.RUNLINE_FUZZ_SUMMARY) console.log(`fuzz summary ${JSON.stringify(summary)}`);
    expect(serverErrors).toEqual([]);
    expect(stateChanges).toEqual([]);
    expect(accepted).toEqual([]);
    expect(badBodies).toEqual([]);
    expect(oracles).toEqual([]);
    expect(comparedTwins).toBeGreaterThan(20);
    // The subscriptions that may stream were sent (unknown thread, another tenant's), and none was counted.
    expect(streams).toBeGreaterThan(0);
    expect(envelopes).toBeGreaterThan(0);
  }, 180_000);
});
