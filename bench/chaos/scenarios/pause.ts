import { sleep } from "../api";
import type { Scenario } from "../scenario";

// A worker frozen past its lock (GC pause, SIGSTOP, a starved host) while another takes its runs over. When it
// thaws it still believes it owns them; only fencing keeps it from streaming and writing next to the new owner.
const RUNS = 3;
const STORY = { tokens: 150, delayMs: 40 };
const FROZEN_MS = 6000;

export const pause: Scenario = {
  name: "pause",
  summary: `${RUNS} runs (${STORY.tokens} tokens @ ${STORY.delayMs} ms) on worker A; SIGSTOP A for ${FROZEN_MS / 1000} s (lock 1.5 s); B takes over; SIGCONT A`,
  rig: {},
  async run(ctx) {
    const { rig } = ctx;
    const a = await rig.spawnWorker();
    const threads = await Promise.all(Array.from({ length: RUNS }, () => rig.api.newThread()));
    for (const threadId of threads) await ctx.startRun(threadId, STORY, { subscribe: true });
    await ctx.until(`${RUNS} runs streaming on A`, async () => (await ctx.count("running")) === RUNS);
    await sleep(1000);
    a.signal("SIGSTOP");
    const frozen = Date.now();
    try {
      await rig.spawnWorker();
      await ctx.until(`B took over all ${RUNS} runs`, async () => (await ctx.countWhere("attempt >= 2")) === RUNS, 30_000);
      const tookOverS = (Date.now() - frozen) / 1000;
      await sleep(Math.max(0, frozen + FROZEN_MS - Date.now()));
      ctx.note(`B took all runs over ${tookOverS.toFixed(1)} s after the freeze; A thawed after ${((Date.now() - frozen) / 1000).toFixed(1)} s`);
    } finally {
      // Thawed while B still streams: the moment two owners could both write.
      a.signal("SIGCONT");
    }
    ctx.faultEnded();
  },
};
