import { randomUUID } from "node:crypto";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import {
  BaseChatModel,
  type BaseChatModelParams,
  type LangSmithParams,
} from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { AbortablePacer } from "./abortable-delay";
import { messageText, splitWords } from "./message-text";
import { composeStoryWords } from "./story-text";

/** The model name the story model reports (`_llmType`, `ls_model_name`, `response_metadata.model_name`). */
export const STORY_MODEL_NAME = "runline-story";

/** Options of {@link StoryChatModel}. */
export interface StoryChatModelOptions extends BaseChatModelParams {
  /** Word tokens per answer, preamble included. A positive integer. */
  tokens: number;
  /** Pause before each token, in milliseconds. Aborting the call's signal cuts it short. */
  delayMs: number;
}

/**
 * Runline's built-in deterministic chat model: no network, one word per streamed chunk, at a set pace.
 *
 * Its text starts with a bracketed preamble describing the messages it was given (see `composeStoryWords`),
 * so tests can prove what context a run saw, e.g. that a "continue" run saw the cancelled partial.
 * Every pause honours `options.signal`: an abort rejects at once with the signal's reason, as a provider
 * stream does when its HTTP request is closed.
 */
export class StoryChatModel extends BaseChatModel {
  readonly tokens: number;
  readonly delayMs: number;

  static lc_name(): string {
    return "StoryChatModel";
  }

  constructor(options: StoryChatModelOptions) {
    const { tokens, delayMs, ...base } = options;
    super(base);
    if (!Number.isInteger(tokens) || tokens < 1) {
      throw new RangeError(`tokens must be a positive integer, got ${tokens}`);
    }
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new RangeError(`delayMs must be a finite number >= 0, got ${delayMs}`);
    }
    this.tokens = tokens;
    this.delayMs = delayMs;
  }

  _llmType(): string {
    return STORY_MODEL_NAME;
  }

  // Without this, LangChain derives `ls_provider` from the class name ("StoryChatModel").
  getLsParams(options: this["ParsedCallOptions"]): LangSmithParams {
    return { ...super.getLsParams(options), ls_provider: "runline", ls_model_name: STORY_MODEL_NAME };
  }

  async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const words = composeStoryWords(messages, this.tokens);
    // One id for every chunk of the call, derived from the run id as LangChain itself would (`run-<id>`),
    // so the streamed chunks and the node's final message line up.
    const id = `run-${runManager?.runId ?? randomUUID()}`;
    const inputTokens = messages.reduce((sum, m) => sum + splitWords(messageText(m)).length, 0);
    // One abort listener for the whole stream: a cancel cuts the current delay short.
    const pacer = new AbortablePacer(options.signal);
    try {
      for (let i = 0; i < words.length; i += 1) {
        await pacer.delay(this.delayMs);
        const text = i === 0 ? words[i]! : ` ${words[i]}`;
        const last = i === words.length - 1;
        const chunk = new ChatGenerationChunk({
          text,
          // Usage and finish reason ride on the last chunk only, like a provider stream: a cancelled
          // stream therefore has neither.
          message: new AIMessageChunk({
            content: text,
            id,
            ...(last && {
              response_metadata: { model_name: STORY_MODEL_NAME, finish_reason: "stop" },
              usage_metadata: {
                input_tokens: inputTokens,
                output_tokens: words.length,
                total_tokens: inputTokens + words.length,
              },
            }),
          }),
        });
        yield chunk;
        // Reported after the consumer took the chunk (as ChatOpenAI does), so a token seen by `messages`
        // stream mode is always part of the aggregated result too.
        const index = { prompt: 0, completion: 0 };
        await runManager?.handleLLMNewToken(text, index, undefined, undefined, undefined, { chunk });
      }
    } finally {
      pacer.dispose();
    }
  }

  async _generate(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    let aggregate: ChatGenerationChunk | undefined;
    for await (const chunk of this._streamResponseChunks(messages, options, runManager)) {
      aggregate = aggregate === undefined ? chunk : aggregate.concat(chunk);
    }
    if (aggregate === undefined) throw new Error("StoryChatModel produced no tokens"); // tokens >= 1 rules this out
    const { content, id, response_metadata, usage_metadata } = aggregate.message as AIMessageChunk;
    const message = new AIMessage({ content, id, response_metadata, usage_metadata });
    return { generations: [{ text: aggregate.text, message }] };
  }
}
