import type { BaseMessage } from "@langchain/core/messages";

/**
 * The plain text of a message: a string content as is, or the text parts of a content array joined with a
 * space. The space (not "") keeps words of adjacent parts apart, so word counts stay honest.
 */
export function messageText(message: BaseMessage): string {
  const { content } = message;
  if (typeof content === "string") return content;
  return content
    .map((part) => {
      if (typeof part === "string") return part;
      return part.type === "text" && typeof part.text === "string" ? part.text : "";
    })
    .filter((text) => text.length > 0)
    .join(" ");
}

/** Whitespace-separated words of `text`; the unit the story model counts and emits as tokens. */
export function splitWords(text: string): string[] {
  return text.split(/\s+/).filter((word) => word.length > 0);
}
