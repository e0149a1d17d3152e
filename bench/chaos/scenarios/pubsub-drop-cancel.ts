import Redis from "ioredis";
import { sleep } from "../api";
import type { Scenario } from "../scenario";

// Pub/sub is the fast path, not the record: a cancel published while the workers' subscribers reconnect is lost,
// and the intent recorded in Postgres (re-read on resubscribe and by the control poll) must still stop the run.
const RUNS = 12;
const STORY = { tokens: 300, delayMs: 20 };

export const pubsubDropCancel: Scenario = {
  name: "pubsub-drop-cancel",
  summary: `CLIENT KILL TYPE pubsub, then at once ${RUNS / 2} wait=1 and ${RUNS / 2} wait=0 cancels; 2 workers; ${RUNS} runs streaming (${STORY.tokens} tokens @ ${STORY.delayMs} ms)`,
  rig: { privateRedis: {} },
  async run(ctx) {
    const { rig } = ctx;
    await Promise.all([rig.spawnWorker(), rig.spawnWorker()]);
    const threads = await Promise.all(Array.from({ length: RUNS }, () => rig.api.newThread()));
    const runs = [];
    for (const threadId of threads) runs.push(await ctx.startRun(threadId, STORY, { subscribe: true }));
    await ctx.until(`${RUNS} runs streaming`, async () => (await ctx.count("running")) === RUNS);
    await sleep(1000);
    const admin = new Redis(rig.redis!.url, { lazyConnect: true });
    try {
      await admin.connect();
      // Every subscriber connection of this Redis: each worker's cancel listener and the API's journal hub.
      const killed = Number(await admin.client("KILL", "TYPE", "pubsub"));
      ctx.faultEnded();
      const [waited, unwaited] = await Promise.all([
        Promise.all(runs.slice(0, RUNS / 2).map((run) => rig.api.cancel(run, true))),
        Promise.all(runs.slice(RUNS / 2).map((run) => rig.api.cancel(run, false))),
      ]);
      ctx.note(`${killed} pub/sub connections killed`);
      ctx.noteAnswers("wait=1", waited);
      ctx.noteAnswers("wait=0", unwaited);
    } finally {
      admin.disconnect();
    }
  },
};
