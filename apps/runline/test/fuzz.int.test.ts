import { waitFor } from "@runline/testing";
import { generateRequests, sweepRequests, type FuzzRequest } from "./fuzz/mutations";
import { createPrng } from "./fuzz/prng";
import { ROUTES, type FuzzFixture } from "./fuzz/routes";
import { diffSnapshots, takeSnapshot, type StateSnapshot } from "./fuzz/state-snapshot";
import { apiClient, startTestRunline, userInput, type TestRunline } from "./harness";

/**
 * Hostile input over every route (issue #9): every listed bad value once (the sweep), then 600 seeded random
 * requests, each wrong in one way (NULs, lone surrogates, deep nesting, non-finite and out-of-range numbers,
 * wrong types and content types, garbage queries and headers, unknown, malformed and other tenants' ids).
 * Every one must be a 4xx with a small problem+json body, and none may change Postgres or Redis.
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
  const emptyThreadA = (await apiClient(t.url, keys.keyA).post("/threads", {})).body.thread_id;
  fixture = { ...keys, threadA: a.threadId, runA: a.runId, checkpointA: a.checkpointId, emptyThreadA, threadB: b.threadId, runB: b.runId, checkpointB: b.checkpointId };
});
afterAll(async () => {
  await t.close();
});

/** Status 0 = no complete answer within 5 s (a stream left open on bad input, say): a failure like a 5xx. */
async function send(req: FuzzRequest): Promise<{ status: number; text: string; contentType: string }> {
  try {
    const res = await fetch(t.url + req.path, { method: req.method, headers: req.headers, body: req.body, redirect: "manual", signal: AbortSignal.timeout(5_000) });
    return { status: res.status, text: await res.text(), contentType: res.headers.get("content-type") ?? "" };
  } catch (err) {
    if ((err as Error).name !== "TimeoutError") throw err;
    return { status: 0, text: "", contentType: "" };
  }
}

const describeRequest = (req: FuzzRequest, status: number) =>
  `${status} ${req.route} [${req.mutation}] ${req.method} ${req.path.slice(0, 120)} ${(req.body ?? "").slice(0, 120)}`;

describe("hostile input over every route", () => {
  it("every route refuses malformed requests: 0 × 5xx, 0 accepted, 0 state changes", async () => {
    const requests = [...sweepRequests(ROUTES, fixture), ...generateRequests(ROUTES, fixture, createPrng(SEED), RANDOM_REQUESTS)];
    expect(new Set(requests.map((r) => r.route))).toEqual(new Set(ROUTES.map((r) => r.name)));

    let baseline = await settle();
    /** 5xx, and requests left without an answer. */
    const serverErrors: string[] = [];
    const accepted: string[] = [];
    const stateChanges: string[] = [];
    const badBodies: string[] = [];
    const statuses: Record<number, number> = {};
    let largestErrorBody = 0;
    for (const req of requests) {
      const res = await send(req);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status >= 500 || res.status === 0) serverErrors.push(describeRequest(req, res.status));
      else if (res.status < 400) accepted.push(describeRequest(req, res.status));
      else {
        largestErrorBody = Math.max(largestErrorBody, res.text.length);
        const problem = /problem\+json/.test(res.contentType) ? (JSON.parse(res.text) as { code?: unknown }) : null;
        if (!problem || typeof problem.code !== "string" || res.text.length > MAX_ERROR_BODY) badBodies.push(`${describeRequest(req, res.status)} → ${res.text.slice(0, 200)}`);
      }
      // An accepted request (a bug) or a 5xx may go on writing after it answered: wait for that to end, so its
      // writes are charged to it and not to the next request.
      const after = res.status >= 400 && res.status < 500 ? await snapshot() : await settle();
      const diff = diffSnapshots(baseline, after);
      if (diff.length && (res.status >= 400 || res.status === 0)) stateChanges.push(`${describeRequest(req, res.status)}: ${diff.join("; ")}`);
      baseline = after;
    }
    // Anything a request set off after answering shows here.
    const late = diffSnapshots(baseline, await settle());
    if (late.length) stateChanges.push(`after the last request: ${late.join("; ")}`);

    const summary = { seed: SEED, requests: requests.length, routes: ROUTES.length, serverErrors: serverErrors.length, accepted: accepted.length, stateChanges: stateChanges.length, largestErrorBody, statuses };
    if (process.env.RUNLINE_FUZZ_SUMMARY) console.log(`fuzz summary ${JSON.stringify(summary)}`);
    expect(serverErrors).toEqual([]);
    expect(stateChanges).toEqual([]);
    expect(accepted).toEqual([]);
    expect(badBodies).toEqual([]);
  });
});
