import { clock, sleep } from "../api";
import type { Scenario } from "../scenario";

// Redis (AOF, fsync always: every acknowledged write survives) restarts under 45 streaming runs: BullMQ locks,
// journal appends, pub/sub and the SSE hub all lose their connections at once and must carry on.
const RUNS = 45;
const STORY = { tokens: 300, delayMs: 10 };

export const redisRestartAof: Scenario = {
  name: "redis-restart-aof",
  summary: `Redis with AOF restarted (graceful, 0.5 s down); 2 workers; ${RUNS} runs streaming (${STORY.tokens} tokens @ ${STORY.delayMs} ms)`,
  rig: { privateRedis: { appendOnly: true } },
  async run(ctx) {
    const { rig } = ctx;
    await Promise.all([rig.spawnWorker(), rig.spawnWorker()]);
    const threads = await Promise.all(Array.from({ length: RUNS }, () => rig.api.newThread()));
    for (const threadId of threads) await ctx.startRun(threadId, STORY, { subscribe: true });
    await ctx.until(`${RUNS} runs streaming`, async () => (await ctx.count("running")) === RUNS);
    await sleep(500);
    const down = Date.now();
    await rig.redis!.restart({ mode: "graceful", downMs: 500 });
    ctx.faultEnded();
    ctx.note(`Redis shut down at ${clock(down)}, answered again at ${clock(Date.now())} (${((Date.now() - down) / 1000).toFixed(1)} s)`);
  },
};
