import { sleep } from "../api";
import type { RunlineProcess } from "../processes";
import type { Scenario } from "../scenario";

// Workers die at random while many short runs queue on few threads: every kill strands a handful of runs
// mid-stream and a few just claimed or just finished; the next run of each thread must still start.
const WORKERS = 3;
const THREADS = 30;
const WAVES = 10;
// Kills every ~3.5 s, waves every 5.5 s: ~55 s of load. Denser kills mostly measure this 2-core machine, not
// Runline: each replacement worker's start (tsx) costs seconds of CPU, runs slow down to seconds, and the next
// kill finds them still on the worker that took them over.
const WAVE_EVERY_MS = 5500;
const KILL_EVERY_MS = [2500, 4500];
const KILLS = 16;
const STORY = { tokens: 30, delayMs: 5 };

export const randomKills: Scenario = {
  name: "random-kills",
  summary: `${WORKERS} workers; ${THREADS * WAVES} runs (${STORY.tokens} tokens @ ${STORY.delayMs} ms) on ${THREADS} threads, ${WAVES} per thread (enqueue); ${KILLS} random SIGKILLs, each replaced`,
  rig: {},
  async run(ctx) {
    const { rig } = ctx;
    // Only workers that finished starting are candidates: killing one mid-start tests nothing.
    const ready: RunlineProcess[] = await Promise.all(Array.from({ length: WORKERS }, () => rig.spawnWorker()));
    const threads = await Promise.all(Array.from({ length: THREADS }, () => rig.api.newThread()));
    const load = (async () => {
      for (let wave = 0; wave < WAVES; wave++) {
        await Promise.all(threads.map((threadId) => ctx.startRun(threadId, STORY, { subscribe: true, text: `wave ${wave}` })));
        await sleep(WAVE_EVERY_MS);
      }
    })();
    // Errors here must not leave the load running unobserved: both are awaited below.
    const killer = (async () => {
      const replacements: Array<Promise<unknown>> = [];
      let seed = 8;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31); // fixed seed: repeatable kills
      await sleep(1000);
      for (let kill = 0; kill < KILLS; kill++) {
        await sleep(KILL_EVERY_MS[0] + random() * (KILL_EVERY_MS[1] - KILL_EVERY_MS[0]));
        // Keep at least one started worker besides the victim, so runs always have somewhere to go.
        if (ready.length < 2) await ctx.until("a replacement worker started", () => ready.length >= 2, 30_000);
        const victim = ready.splice(Math.floor(random() * ready.length), 1)[0];
        await victim.kill("SIGKILL");
        replacements.push(rig.spawnWorker().then((w) => ready.push(w)));
      }
      await Promise.all(replacements);
    })();
    await Promise.all([load, killer]);
    ctx.faultEnded();
    ctx.note(`${KILLS} workers SIGKILLed (${rig.processes.length - 1} worker processes in all)`);
  },
};
