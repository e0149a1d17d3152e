/** The workload both sides run: same graph input, same story pacing (overridden per run via `configurable`). */
export interface StoryPace {
  tokens: number;
  delayMs: number;
}

/** Identical input on both sides, so the deterministic story model streams identical words. */
export function storyInput() {
  return { messages: [{ role: "user", content: "Tell me a story about a benchmark" }] };
}

/** The JSON body of a story run request over HTTP (`POST …/runs`, `/runs/stream`): the same input and pacing everywhere. */
export function storyRunBody(pace: StoryPace, streamMode: string[] = ["values", "messages-tuple"]): string {
  return JSON.stringify({
    assistant_id: "story",
    input: storyInput(),
    stream_mode: streamMode,
    config: { configurable: { story_tokens: pace.tokens, story_token_delay_ms: pace.delayMs } },
  });
}
