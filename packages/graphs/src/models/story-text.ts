import type { BaseMessage } from "@langchain/core/messages";
import { messageText, splitWords } from "./message-text";

/** How many trailing words of the latest assistant message the preamble quotes. */
const QUOTED_WORDS = 5;

// Read in order from a prompt-dependent starting point, so the story is legible and still varies by prompt.
const STORY_WORDS = [
  "once", "a", "lantern", "glowed", "beside", "the", "quiet", "river", "where", "an", "old", "fox",
  "kept", "watch", "over", "silver", "reeds", "and", "every", "night", "small", "boats", "drifted", "past",
  "carrying", "letters", "from", "distant", "towns", "while", "wind", "sang", "softly", "through", "tall",
  "pines", "until", "morning", "light", "returned", "home",
];

/**
 * The words the story model emits for `messages`, exactly `tokens` of them.
 *
 * The first words are a bracketed preamble describing what the model was given, so a test (or a person
 * reading a "continue" run) can prove which context reached the model, e.g.
 * `[story: saw 3 messages; 2 earlier assistant messages with 57 words; continuing after "w1 w2 w3 w4 w5"]`.
 * Story words follow: a fixed word list read in order from an offset given by a hash of the last human
 * message, so the same input always gives the same text. A `tokens` smaller than the preamble truncates
 * the preamble.
 */
export function composeStoryWords(messages: BaseMessage[], tokens: number): string[] {
  const words = splitWords(describeContext(messages)).slice(0, tokens);
  const seed = hashText(lastTextOfType(messages, "human") ?? "");
  for (let i = 0; words.length < tokens; i += 1) {
    words.push(STORY_WORDS[(seed + i) % STORY_WORDS.length]!);
  }
  return words;
}

/** The preamble text (see {@link composeStoryWords}). */
export function describeContext(messages: BaseMessage[]): string {
  const assistant = messages.filter((m) => m.type === "ai");
  const assistantWords = assistant.reduce((sum, m) => sum + splitWords(messageText(m)).length, 0);
  const seen = `saw ${messages.length} messages`;
  if (assistantWords === 0) return `[story: ${seen}; no earlier assistant text]`;
  const latest = splitWords(lastTextOfType(messages, "ai") ?? "");
  const quoted = latest.slice(-QUOTED_WORDS).join(" ");
  const earlier = `${assistant.length} earlier assistant messages with ${assistantWords} words`;
  return `[story: ${seen}; ${earlier}; continuing after "${quoted}"]`;
}

/** Text of the last message of `type` that has any text (tool-call-only assistant turns are skipped). */
function lastTextOfType(messages: BaseMessage[], type: "ai" | "human"): string | undefined {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i]!;
    if (message.type !== type) continue;
    const text = messageText(message);
    if (splitWords(text).length > 0) return text;
  }
  return undefined;
}

/** FNV-1a (32 bit): a tiny stable hash, so story words depend on the prompt but never on process state. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
