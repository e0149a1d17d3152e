import { journalKeys } from "@runline/journal";
import { sleep } from "../api";
import type { Scenario } from "../scenario";

// Redis without persistence restarts empty: the journals, the fences, the BullMQ jobs and their locks are gone.
// Runline cannot keep what subscribers saw here (the README says so); what it must still do is honour the cancels
// recorded in Postgres, end every run, and free every thread.
const RUNS = 5;
const STORY = { tokens: 500, delayMs: 20 };
const JOURNAL_LOST = "Redis restarted empty: the journal (and its fence) from before the restart is gone";

export const redisNoPersistenceCancel: Scenario = {
  name: "redis-no-persistence-cancel",
  summary: `Redis without persistence restarted (data lost); 2 workers; ${RUNS} runs streaming (${STORY.tokens} tokens @ ${STORY.delayMs} ms), then a wait=1 cancel of each`,
  rig: { privateRedis: {} },
  notGuaranteed: {
    double: `${JOURNAL_LOST}, so the journal cannot show which attempt streamed when`,
    afterEnd: JOURNAL_LOST,
    ends: JOURNAL_LOST,
    state: `${JOURNAL_LOST}: the streamed text is only what was appended after it`,
    subscribers: `${JOURNAL_LOST}: a subscriber that resumes by id has nothing to resume from`,
  },
  async run(ctx) {
    const { rig } = ctx;
    await Promise.all([rig.spawnWorker(), rig.spawnWorker()]);
    const threads = await Promise.all(Array.from({ length: RUNS }, () => rig.api.newThread()));
    const runs = [];
    for (const threadId of threads) runs.push(await ctx.startRun(threadId, STORY, { subscribe: true }));
    await ctx.until(`${RUNS} runs streaming`, async () => (await ctx.count("running")) === RUNS);
    await sleep(1000);
    // A marker nobody rewrites proves the restart lost the data (workers recreate their own keys within ms).
    const marker = `${rig.ns.redisPrefix}:chaos-marker`;
    await rig.ns.redis.set(marker, "1");
    const keys = journalKeys(rig.ns.redisPrefix);
    const before = await Promise.all(runs.map((run) => rig.ns.redis.xlen(keys.events(run.runId))));
    await rig.redis!.restart({ mode: "graceful", downMs: 500 });
    ctx.faultEnded();
    ctx.note(`after the restart the marker key was ${(await rig.ns.redis.exists(marker)) ? "still there (data kept!)" : "gone (data lost)"}`);
    const answers = await Promise.all(runs.map((run) => rig.api.cancel(run, true)));
    ctx.noteAnswers("wait=1 cancels right after the restart", answers);
    const { rows } = await rig.ns.pool.query(`SELECT run_id, (partial->>'token_count')::int AS kept FROM runs WHERE run_id = ANY($1::text[])`, [runs.map((r) => r.runId)]);
    const kept = new Map(rows.map((r: any) => [r.run_id, r.kept]));
    ctx.note(`journal entries per run before the restart: ${before.join(", ")}; partial tokens kept: ${runs.map((r) => kept.get(r.runId) ?? "-").join(", ")}`);
  },
};
