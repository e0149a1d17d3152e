import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { compileStoryGraph } from "@runline/graphs";
import { TokenClock, type RunTiming } from "./timing";
import { storyInput, type StoryPace } from "./workload";

export type StoryGraph = ReturnType<typeof compileStoryGraph>;

/**
 * Streams one run of the story graph in this process, the baseline Runline is compared with: the same
 * graph, the same model and (when compiled with the Postgres saver) the same checkpoint writes, but no
 * queue, journal, HTTP or SSE. A fresh thread per run, as each Runline run gets a fresh thread too.
 */
export async function streamInProcess(graph: StoryGraph, pace: StoryPace): Promise<RunTiming> {
  const config = {
    streamMode: ["messages", "values"] as ("messages" | "values")[],
    configurable: { thread_id: randomUUID(), story_tokens: pace.tokens, story_token_delay_ms: pace.delayMs },
  };
  const clock = new TokenClock(performance.now());
  const stream = await graph.stream(storyInput(), config);
  for await (const [mode] of stream as AsyncIterable<[string, unknown]>) {
    if (mode === "messages") clock.token();
  }
  return clock.finish();
}
