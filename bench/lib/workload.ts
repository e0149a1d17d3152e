/** The workload both sides run: same graph input, same story pacing (overridden per run via `configurable`). */
export interface StoryPace {
  tokens: number;
  delayMs: number;
}

/** Identical input on both sides, so the deterministic story model streams identical words. */
export function storyInput() {
  return { messages: [{ role: "user", content: "Tell me a story about a benchmark" }] };
}
