/**
 * Checks a thread's messages (wire form) the way OpenAI-style providers validate a request: every assistant
 * tool call must be answered by a `tool` message with its id before the next non-tool message, no tool message
 * may answer a call that was not made, and no tool call may be half-formed (invalid). Throws naming the problem.
 */
export function assertProviderValidHistory(messages: any[]): void {
  const problems = providerHistoryProblems(messages);
  if (problems.length) throw new Error(`history a provider would reject:\n  ${problems.join("\n  ")}`);
}

export function providerHistoryProblems(messages: any[]): string[] {
  const problems: string[] = [];
  let open = new Set<string>();
  messages.forEach((m, i) => {
    if (m.type === "tool") {
      if (!open.delete(m.tool_call_id)) problems.push(`#${i}: tool result for ${m.tool_call_id}, which no pending assistant call made`);
      return;
    }
    if (open.size) problems.push(`#${i}: ${m.type} message while tool calls ${[...open].join(", ")} have no result`);
    open = new Set<string>();
    if (m.type !== "ai") return;
    if ((m.invalid_tool_calls ?? []).length) problems.push(`#${i}: invalid (half-streamed) tool calls`);
    for (const call of m.tool_calls ?? []) {
      if (!call.id) problems.push(`#${i}: tool call without an id`);
      else open.add(call.id);
    }
  });
  if (open.size) problems.push(`end: tool calls ${[...open].join(", ")} have no result`);
  return problems;
}
