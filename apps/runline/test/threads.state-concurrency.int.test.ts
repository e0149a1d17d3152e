import { startTestRunline, userInput, type TestRunline } from "./harness";

// Issue #8: concurrent `POST /threads/{id}/state` on one thread used to wedge the server for good. Each update
// held a pooled connection (the thread row lock) while LangGraph asked the pool for more; once every connection
// was held, nothing could move. A pool of 5 makes that certain with a handful of requests.
let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("threads-state-concurrency", { RUNLINE_PG_POOL_MAX: "5" });
});
afterAll(async () => {
  await t.close();
});

const quick = { configurable: { story_tokens: 5, story_token_delay_ms: 0 } };
const update = { values: { messages: [{ role: "user", content: "x" }] } };

/** Rejects, naming `what`, if `promise` takes longer than `ms`: a hang fails the test with a reason, not a jest timeout. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Starts a story run and answers when it ended (`/runs/wait`): the HTTP status and the run's final values. */
async function runToEnd(threadId: string, text: string) {
  const res = await fetch(`${t.url}/threads/${threadId}/runs/wait`, {
    method: "POST",
    headers: { "content-type": "application/json", ...t.api.headers },
    body: JSON.stringify({ assistant_id: "story", input: userInput(text), config: quick }),
  });
  return { status: res.status, values: JSON.parse(await res.text()) };
}

async function messageCount(threadId: string): Promise<number> {
  const state = await t.api.get(`/threads/${threadId}/state`);
  expect(state.status).toBe(200);
  return state.body.values.messages.length;
}

/** A thread with one finished run, so it has a graph and a head checkpoint. */
async function threadWithGraph(): Promise<string> {
  const threadId = (await t.api.post("/threads", {})).body.thread_id;
  expect((await runToEnd(threadId, "hello")).status).toBe(200);
  return threadId;
}

/** Fires `n` state updates at once; answers the statuses once all are back, and the 409 bodies. */
async function concurrentUpdates(threadId: string, n: number) {
  const responses = await within(
    20_000,
    `${n} concurrent state updates`,
    Promise.all(Array.from({ length: n }, () => t.api.post(`/threads/${threadId}/state`, update))),
  );
  return { statuses: responses.map((r) => r.status), conflicts: responses.filter((r) => r.status === 409).map((r) => r.body) };
}

/** After the burst, the server answers everything else as usual. */
async function expectServerResponsive(threadId: string) {
  await within(10_000, "GET state after the burst", messageCount(threadId));
  const created = await within(10_000, "POST /threads after the burst", t.api.post("/threads", {}));
  expect(created.status).toBe(200);
  const run = await within(10_000, "a run after the burst", runToEnd(threadId, "still here?"));
  expect(run.status).toBe(200);
  expect(run.values.messages.at(-1).type).toBe("ai");
}

describe.each([40, 200])("%i concurrent state updates on one thread", (n) => {
  it("each answers 200 or 409 THREAD_BUSY, none hangs or fails, every 200 lands in order, and the server stays up", async () => {
    const threadId = await threadWithGraph();
    const before = await messageCount(threadId);

    const { statuses, conflicts } = await concurrentUpdates(threadId, n);

    expect(statuses.filter((s) => s !== 200 && s !== 409)).toEqual([]);
    const succeeded = statuses.filter((s) => s === 200).length;
    expect(succeeded).toBeGreaterThanOrEqual(1);
    for (const body of conflicts) expect(body.code).toBe("THREAD_BUSY");
    // Updates were applied one after another, each on the previous head: none was lost to a fork.
    expect(await messageCount(threadId)).toBe(before + succeeded);
    await expectServerResponsive(threadId);
  });
});

it("state updates racing a run start never interleave with the run", async () => {
  const threadId = await threadWithGraph();
  const before = await messageCount(threadId);

  const [run, { statuses }] = await Promise.all([runToEnd(threadId, "racing"), concurrentUpdates(threadId, 20)]);

  expect(run.status).toBe(200);
  expect(statuses.filter((s) => s !== 200 && s !== 409)).toEqual([]);
  // The run added its input and its answer; each accepted update added one message, before or after the run.
  const succeeded = statuses.filter((s) => s === 200).length;
  expect(await messageCount(threadId)).toBe(before + 2 + succeeded);
  await expectServerResponsive(threadId);
});
