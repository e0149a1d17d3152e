import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { ChatOpenAI } from "@langchain/openai";
import { createIdleTimeoutFetch } from "./idle-timeout-fetch";
import { StoryChatModel } from "./story-chat-model";

/** Pace and length of the built-in story model. */
export interface StorySettings {
  /** Word tokens per answer. */
  tokens: number;
  /** Pause before each token, in milliseconds. */
  delayMs: number;
}

/** An OpenAI-compatible endpoint (OpenAI itself, or vLLM / Ollama / llama.cpp servers via `baseURL`). */
export interface OpenAISettings {
  /** Optional for local servers that take no key; see {@link createChatModelFactory}. */
  apiKey?: string;
  baseURL?: string;
  model: string;
  /**
   * Retries `ChatOpenAI` makes for a request that failed before its first token (429, 5xx, connection refused);
   * it honours `retry-after` up to 60 s. A failure mid-stream is never retried (the tokens already reached
   * subscribers). @defaultValue 2
   */
  maxRetries?: number;
  /** Longest silence (no byte) from the provider before the request fails. @defaultValue 60000 */
  idleTimeoutMs?: number;
}

/**
 * Which chat model runs use. Same shape as `ModelConfig` from `@runline/config`, so the loaded config can be
 * passed straight in. `story` rides along with `openai` so the pacing defaults exist whichever is chosen.
 */
export type ModelSettings =
  | { provider: "story"; story: StorySettings }
  | { provider: "openai"; openai: OpenAISettings; story: StorySettings };

/** Per-run adjustments. `tokens`/`delayMs` apply to the story model only, `model` to OpenAI only. */
export interface ChatModelOverrides {
  tokens?: number;
  delayMs?: number;
  model?: string;
}

/** Builds a fresh chat model for one run. The worker hands one to graphs through the runtime context. */
export type ChatModelFactory = (overrides?: ChatModelOverrides) => BaseChatModel;

// Local OpenAI-style servers ignore the key, but the OpenAI client refuses to send a request without one.
const PLACEHOLDER_API_KEY = "runline-no-key";

/**
 * Creates the {@link ChatModelFactory} for `settings`.
 *
 * For `openai` without an `apiKey` but with a `baseURL`, a placeholder key is sent (local servers need none);
 * with neither, `@langchain/openai` falls back to its own `OPENAI_API_KEY` lookup.
 */
export function createChatModelFactory(settings: ModelSettings): ChatModelFactory {
  if (settings.provider === "story") {
    return (overrides = {}) =>
      new StoryChatModel({
        tokens: overrides.tokens ?? settings.story.tokens,
        delayMs: overrides.delayMs ?? settings.story.delayMs,
      });
  }
  const { apiKey, baseURL, model, maxRetries = 2, idleTimeoutMs = 60_000 } = settings.openai;
  const fetchWithIdleTimeout = createIdleTimeoutFetch(idleTimeoutMs);
  return (overrides = {}) =>
    new ChatOpenAI({
      maxRetries,
      apiKey: apiKey ?? (baseURL !== undefined ? PLACEHOLDER_API_KEY : undefined),
      model: overrides.model ?? model,
      // Streaming makes even a plain `invoke` emit tokens, which `messages` stream mode and cancel rely on.
      streaming: true,
      configuration: { fetch: fetchWithIdleTimeout, ...(baseURL !== undefined && { baseURL }) },
    });
}
