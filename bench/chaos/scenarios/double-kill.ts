import { sleep } from "../api";
import type { Scenario } from "../scenario";

// The owner dies, then the worker that took over dies too: BullMQ then fails the jobs as stalled twice without
// calling a processor, and only the reconciler can move the runs on to a third worker.
const RUNS = 10;
const STORY = { tokens: 200, delayMs: 20 };

export const doubleKill: Scenario = {
  name: "double-kill",
  summary: `${RUNS} runs (${STORY.tokens} tokens @ ${STORY.delayMs} ms) on worker A; SIGKILL A; B takes over; SIGKILL B; C finishes`,
  rig: {},
  async run(ctx) {
    const { rig } = ctx;
    const a = await rig.spawnWorker();
    const threads = await Promise.all(Array.from({ length: RUNS }, () => rig.api.newThread()));
    for (const threadId of threads) await ctx.startRun(threadId, STORY, { subscribe: true });
    await ctx.until(`${RUNS} runs streaming on A`, async () => (await ctx.count("running")) === RUNS);
    await sleep(1000);
    await a.kill("SIGKILL");
    const b = await rig.spawnWorker();
    await ctx.until(`B took over all ${RUNS} runs`, async () => (await ctx.countWhere("attempt >= 2")) === RUNS, 30_000);
    await sleep(1000); // B streams its attempt for a while
    await b.kill("SIGKILL");
    await rig.spawnWorker();
    ctx.faultEnded();
    ctx.note(`attempts when B died: ${await ctx.countWhere("attempt = 2")} runs at 2`);
  },
};
