import { createRunQueue, type RunQueue } from "@runline/queue";
import { collectSse, createTestNamespace, waitFor, type TestNamespace } from "@runline/testing";
import { startTestRunline, userInput, type TestRunline } from "../harness";
import { FAST_RECOVERY } from "./fault-rig";

// Each lost step is made to happen on purpose, by doing to Postgres and Redis exactly what a process that
// died at that point leaves behind; the reconciler must move every run on by itself.
let ns: TestNamespace;
let t: TestRunline;
let queue: RunQueue;
const ADMIN_KEY = "reconciler-admin-0123456789";

beforeAll(async () => {
  ns = await createTestNamespace("faults-reconciler");
  t = await startTestRunline("faults-reconciler", { ...FAST_RECOVERY, RUNLINE_ADMIN_KEY: ADMIN_KEY }, ns);
  queue = createRunQueue(ns.redis, ns.redisPrefix);
});
afterAll(async () => {
  await queue.close();
  await t.close();
  await ns.cleanup();
});

const later = (text: string) => ({ assistant_id: "story", input: userInput(text), after_seconds: 60 });
const quick = (text: string) => ({ assistant_id: "story", input: userInput(text), config: { configurable: { story_tokens: 3, story_token_delay_ms: 0 } } });

async function newThread(): Promise<string> {
  return (await t.api.post("/threads", {})).body.thread_id;
}

describe("the reconciler", () => {
  it("puts a dispatched run whose job was lost (enqueue never happened, or Redis lost it) back on the queue, still delayed", async () => {
    const threadId = await newThread();
    const run = (await t.api.post(`/threads/${threadId}/runs`, later("lost job"))).body;
    expect(await queue.jobState(run.run_id)).toBe("delayed");
    expect(await queue.removeWaiting(run.run_id)).toBe(true);
    await waitFor(async () => (await queue.jobState(run.run_id)) === "delayed", { what: "job re-added" });
    const job = await queue.queue.getJob(run.run_id);
    expect(job!.delay).toBeGreaterThan(50_000); // what was left of after_seconds, not a run started early
  });

  it("announces a run whose finish committed but whose `end` never went out, and starts the run queued behind it", async () => {
    const threadId = await newThread();
    const first = (await t.api.post(`/threads/${threadId}/runs`, later("finished, never announced"))).body;
    const second = (await t.api.post(`/threads/${threadId}/runs`, quick("waiting behind it"))).body;
    await queue.removeWaiting(first.run_id);
    // What a worker leaves when it dies right after its finish transaction: terminal, next run claimed, no `end`.
    await ns.pool.query(`UPDATE runs SET status = 'interrupted', finished_at = now() - interval '5 seconds' WHERE run_id = $1`, [first.run_id]);
    await ns.pool.query(`UPDATE runs SET dispatched_at = now() - interval '5 seconds', updated_at = now() - interval '5 seconds' WHERE run_id = $1`, [second.run_id]);
    const { frames } = await collectSse(`${t.url}/threads/${threadId}/runs/${first.run_id}/stream`, { headers: t.api.headers });
    expect(frames.filter((f) => f.event === "end")).toEqual([expect.objectContaining({ data: expect.objectContaining({ status: "interrupted" }) })]);
    const next = await collectSse(`${t.url}/threads/${threadId}/runs/${second.run_id}/stream`, { headers: t.api.headers });
    expect(next.frames[next.frames.length - 1].data.status).toBe("success");
  });

  it("dispatches a thread's queued run when nothing else of the thread is in flight", async () => {
    const threadId = await newThread();
    const first = (await t.api.post(`/threads/${threadId}/runs`, later("blocker"))).body;
    const second = (await t.api.post(`/threads/${threadId}/runs`, quick("stranded"))).body;
    await queue.removeWaiting(first.run_id);
    // The blocker ended and was announced, but the claim of the next run was lost.
    await ns.pool.query(`UPDATE runs SET status = 'interrupted', finished_at = now(), end_announced_at = now() WHERE run_id = $1`, [first.run_id]);
    await ns.pool.query(`UPDATE runs SET updated_at = now() - interval '5 seconds' WHERE run_id = $1`, [second.run_id]);
    const { frames } = await collectSse(`${t.url}/threads/${threadId}/runs/${second.run_id}/stream`, { headers: t.api.headers });
    expect(frames[frames.length - 1].data.status).toBe("success");
  });

  it("shows what it repaired on the dashboard's workers list", async () => {
    // The heartbeat carries the counts; it is rewritten whenever the worker's runs change and every few seconds.
    const worker = await waitFor(async () => {
      const res = await fetch(`${t.url}/admin/api/workers`, { headers: { "x-admin-key": ADMIN_KEY } });
      const [listed] = (await res.json()).workers;
      return listed?.reconciled?.dispatched ? listed : undefined;
    }, { what: "the reconciler's repairs on the workers list" });
    expect(worker.reconciled.requeued_pending).toBeGreaterThanOrEqual(2);
    expect(worker.reconciled.announced).toBeGreaterThanOrEqual(1);
    expect(worker.reconciled.dispatched).toBeGreaterThanOrEqual(1);
  });
});
