/**
 * How a graph node gets its chat model.
 *
 * The worker passes a {@link ChatModelFactory} in LangGraph's *runtime context*, not in `configurable`:
 *
 *   graph.stream(input, { context: { ...userContext, [CHAT_MODEL_CONTEXT_KEY]: factory }, configurable: {...} })
 *
 * (Spread the request's context first so a client-supplied key cannot replace the factory.)
 * Verified on @langchain/langgraph 1.7.3: the node's second argument has `config.context` holding that object,
 * functions included, with no context schema declared (LangGraph only validates context against a schema the
 * graph declares). Context is not written into checkpoints or their metadata; `configurable` is where
 * LangGraph keeps `thread_id`/`checkpoint_id` and it copies primitive values from it into run metadata, so
 * a function does not belong there. A graph run without the worker (benchmarks, tests) has no factory and
 * gets the story model.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { ChatModelFactory, ChatModelOverrides } from "./chat-model-factory";
import { StoryChatModel } from "./story-chat-model";

/** Key of the {@link ChatModelFactory} in the runtime context passed to `graph.stream`. */
export const CHAT_MODEL_CONTEXT_KEY = "runlineChatModels";

/** `configurable` key overriding the story model's token count for one run (a positive integer). */
export const STORY_TOKENS_KEY = "story_tokens";

/** `configurable` key overriding the story model's per-token delay for one run (milliseconds, >= 0). */
export const STORY_DELAY_KEY = "story_token_delay_ms";

/** Upper bounds for per-run overrides: larger values are treated as invalid, so a request cannot pin a worker. */
export const MAX_STORY_TOKENS = 100_000;
export const MAX_STORY_DELAY_MS = 60_000;

/** The runtime context Runline's worker passes to graphs. */
export interface RunlineGraphContext {
  [CHAT_MODEL_CONTEXT_KEY]?: ChatModelFactory;
  [key: string]: unknown;
}

/** Story model used when no factory is in the context. */
const FALLBACK_STORY = { tokens: 200, delayMs: 10 };

/**
 * The chat model for the node that received `config`: the worker's factory from `config.context` with the
 * run's overrides applied, or a `StoryChatModel` (200 tokens, 10 ms) when there is no factory.
 */
export function resolveChatModel(config: LangGraphRunnableConfig): BaseChatModel {
  const overrides = readModelOverrides(config.configurable);
  const factory: unknown = config.context?.[CHAT_MODEL_CONTEXT_KEY];
  if (typeof factory === "function") return (factory as ChatModelFactory)(overrides);
  return new StoryChatModel({
    tokens: overrides.tokens ?? FALLBACK_STORY.tokens,
    delayMs: overrides.delayMs ?? FALLBACK_STORY.delayMs,
  });
}

/** Per-run overrides from `configurable`; values of the wrong type or out of range are ignored. */
export function readModelOverrides(configurable: Record<string, unknown> | undefined): ChatModelOverrides {
  const overrides: ChatModelOverrides = {};
  const tokens = configurable?.[STORY_TOKENS_KEY];
  const delayMs = configurable?.[STORY_DELAY_KEY];
  if (typeof tokens === "number" && Number.isInteger(tokens) && tokens >= 1 && tokens <= MAX_STORY_TOKENS) {
    overrides.tokens = tokens;
  }
  if (typeof delayMs === "number" && Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= MAX_STORY_DELAY_MS) {
    overrides.delayMs = delayMs;
  }
  return overrides;
}
