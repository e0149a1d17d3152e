import type { RunRecord } from "@runline/core";
import { buildRunConfig } from "./run-executor";

const run = (config: Record<string, unknown>) =>
  ({
    run_id: "r1",
    thread_id: "t1",
    graph_id: "story",
    assistant_id: "a1",
    metadata: { from: "run" },
    kwargs: { config, checkpoint: null },
  }) as unknown as RunRecord;

describe("buildRunConfig", () => {
  it("keeps only the config keys LangGraph documents for runs, in LangGraph JS's spelling", () => {
    const config = buildRunConfig(run({ debug: true, callbacks: ["x"], tags: ["a"], recursion_limit: 5, run_name: "n", max_concurrency: 2, metadata: { from: "config", extra: 1 } }));
    expect(config).not.toHaveProperty("debug");
    expect(config).not.toHaveProperty("callbacks");
    expect(config).toMatchObject({ tags: ["a"], recursionLimit: 5, runName: "n", maxConcurrency: 2 });
    expect(config.metadata).toMatchObject({ from: "run", extra: 1, run_id: "r1" });
  });

  it("drops configurable keys reserved for LangGraph, from runs queued before the API refused them", () => {
    const config = buildRunConfig(run({ configurable: { __pregel_scratchpad: {}, __x: 1, story_tokens: 3 } })) as { configurable: Record<string, unknown> };
    expect(Object.keys(config.configurable).filter((k) => k.startsWith("__"))).toEqual([]);
    expect(config.configurable).toMatchObject({ story_tokens: 3, thread_id: "t1" });
  });
});
