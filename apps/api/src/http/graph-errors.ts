import { AppError, INPUT_LIMITS, ValidationError, truncate } from "@runline/core";

/**
 * LangGraph errors that mean "the update you sent is wrong", by class name (they cross package copies, so
 * `instanceof` is unreliable): an unknown `as_node`, values of the wrong shape, an empty input.
 */
const INVALID_INPUT_ERRORS = new Set(["InvalidUpdateError", "EmptyInputError"]);
/** LangChain's code for a message it cannot build (an unknown role or type, a number where a message goes). */
const MESSAGE_COERCION_FAILURE = "MESSAGE_COERCION_FAILURE";

/**
 * The 422 a LangGraph/LangChain error from `updateState` means for the client, or null for any other error.
 * The client's own values are never echoed: LangChain's message quotes them ("Received: {content…}"), and the
 * answer's detail is also what the request log line names.
 */
export function translateGraphError(err: unknown): AppError | null {
  const e = err as { name?: unknown; message?: unknown; lc_error_code?: unknown } | null;
  if (!e || typeof e !== "object" || err instanceof AppError) return null;
  const message = typeof e.message === "string" ? e.message : "";
  if (e.lc_error_code === MESSAGE_COERCION_FAILURE || message.includes(`/${MESSAGE_COERCION_FAILURE}/`)) {
    return new ValidationError("values: a message could not be read (its role/type must be human, ai, system, developer or tool, with content)", { path: "values" });
  }
  if (typeof e.name === "string" && INVALID_INPUT_ERRORS.has(e.name)) {
    // The first line names the node or the shape; the rest is a troubleshooting link.
    const firstLine = message.split("\n")[0]?.replace(/\s*Received:.*$/s, "") ?? "";
    return new ValidationError(`Invalid state update: ${truncate(firstLine || e.name, INPUT_LIMITS.errorMessageLength)}`);
  }
  return null;
}
