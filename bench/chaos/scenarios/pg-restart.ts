import { clock, sleep } from "../api";
import type { Scenario } from "../scenario";

// Postgres goes away for 3 s under load: claims, checkpoint writes, finishes and the reconciler's queries all fail
// meanwhile. An outage this short must cost delay, never a run, a message, or a second execution.
const STREAMING = 20;
const QUEUED = 25;
const STORY = { tokens: 300, delayMs: 10 };

export const pgRestart: Scenario = {
  name: "pg-restart",
  summary: `Postgres restart (immediate, 3 s down); 2 workers; ${STREAMING} runs streaming (${STORY.tokens} tokens @ ${STORY.delayMs} ms), ${QUEUED} queued behind them`,
  rig: { privatePostgres: true },
  async run(ctx) {
    const { rig } = ctx;
    await Promise.all([rig.spawnWorker(), rig.spawnWorker()]);
    const threads = await Promise.all(Array.from({ length: STREAMING }, () => rig.api.newThread()));
    for (const threadId of threads) await ctx.startRun(threadId, STORY, { subscribe: true });
    // Same threads, so these wait (multitask `enqueue`) and must be dispatched by a finish that meets the outage.
    for (let i = 0; i < QUEUED; i++) await ctx.startRun(threads[i % STREAMING], STORY, { subscribe: true, text: `and then ${i}` });
    await ctx.until(`${STREAMING} runs streaming`, async () => (await ctx.count("running")) === STREAMING);
    await sleep(500);
    const down = Date.now();
    // `immediate` (SIGQUIT): no shutdown checkpoint, crash recovery on start, every open transaction lost.
    await rig.postgres!.restart({ downMs: 3000, mode: "immediate" });
    ctx.faultEnded();
    ctx.note(`Postgres shut down at ${clock(down)}, answered again at ${clock(Date.now())} (${((Date.now() - down) / 1000).toFixed(1)} s)`);
  },
};
