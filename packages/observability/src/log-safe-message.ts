/** The longest error message a log line keeps. */
const MAX_MESSAGE = 200;

/**
 * Where a foreign error message stops being about the error and starts quoting its input: LangChain's coercion
 * errors end in "Received: {…the message…}", zod and pg quote the value, LangGraph prints the state. Our own
 * messages name ids and limits only and have none of these.
 */
const PAYLOAD_START = /Received|[{["'`\n]/;

/**
 * An error message fit for a log line: cut where it starts quoting a payload (message content, a state, a
 * value), and at {@link MAX_MESSAGE} characters. The full message still reaches the client that caused it (the
 * run's `error`, the 4xx detail); only the log loses it.
 */
export function logSafeMessage(message: unknown): string {
  const text = String(message ?? "");
  const match = PAYLOAD_START.exec(text);
  const head = (match ? text.slice(0, match.index) : text).trimEnd();
  const cut = head.length > MAX_MESSAGE ? head.slice(0, MAX_MESSAGE) : head;
  return cut.length < text.length ? `${cut} […]` : cut;
}

/** A stack with its first line (which repeats the message) rebuilt from the safe message. */
export function logSafeStack(err: Error): string | undefined {
  if (!err.stack) return undefined;
  const frames = err.stack.indexOf("\n    at ");
  return `${err.name}: ${logSafeMessage(err.message)}${frames >= 0 ? err.stack.slice(frames) : ""}`;
}
