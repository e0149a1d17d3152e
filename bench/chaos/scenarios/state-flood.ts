import type { Scenario } from "../scenario";

// Issue #8's wedge: concurrent `POST /threads/{id}/state` on one thread each held a pooled connection (the thread
// row lock) while LangGraph asked the pool for more; once every connection was held nothing moved, for good.
// 40 requests against the default pool of 20, then the server must answer everything else as usual.
const UPDATES = 40;
const QUICK = { tokens: 5, delayMs: 0 };

export const stateFlood: Scenario = {
  name: "state-flood",
  summary: `${UPDATES} concurrent POST /threads/{id}/state on one thread (default pool of 20), then GET state, POST /threads and a run`,
  rig: {},
  async run(ctx) {
    const { rig } = ctx;
    await rig.spawnWorker();
    const threadId = await rig.api.newThread();
    ctx.externallyWritten.add(threadId);
    // A finished run first, so the thread has a graph and a head to update.
    await ctx.startRun(threadId, QUICK, { text: "hello" });
    await ctx.until("the first run finished", async () => (await ctx.count("success")) === 1);
    const update = { values: { messages: [{ role: "user", content: "x" }] } };
    const answers = await Promise.all(Array.from({ length: UPDATES }, () => rig.api.request("POST", `/threads/${threadId}/state`, update, 30_000)));
    ctx.faultEnded();
    ctx.noteAnswers(`${UPDATES} state updates`, answers);
    const failed: string[] = [];
    const state = await rig.api.request("GET", `/threads/${threadId}/state`, undefined, 10_000);
    if (state.status !== 200) failed.push(`GET state: ${state.status || state.error}`);
    const created = await rig.api.request("POST", "/threads", {}, 10_000);
    if (created.status !== 200) failed.push(`POST /threads: ${created.status || created.error}`);
    await ctx.startRun(threadId, QUICK, { subscribe: true, text: "after the flood" });
    await ctx.until("the run after the flood finished", async () => (await ctx.count("success")) === 2, 30_000).catch((err) => failed.push(String(err.message)));
    ctx.note(`after the flood: GET state ${state.status || state.error} (${(state.ms / 1000).toFixed(2)} s), POST /threads ${created.status || created.error} (${(created.ms / 1000).toFixed(2)} s)`);
    if (failed.length) throw new Error(`server did not answer as usual after the flood: ${failed.join("; ")}`);
  },
};
