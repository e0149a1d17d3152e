import { providerHistoryProblems } from "./provider-history";

describe("providerHistoryProblems", () => {
  const call = (id: string) => ({ type: "ai", content: "", tool_calls: [{ id, name: "search", args: {} }] });
  it("accepts answered calls and plain turns", () => {
    expect(providerHistoryProblems([{ type: "human" }, call("a"), { type: "tool", tool_call_id: "a" }, { type: "ai", content: "done" }])).toEqual([]);
  });
  it("names a dangling call, an orphan result and a half-streamed call", () => {
    expect(providerHistoryProblems([{ type: "human" }, call("a"), { type: "human" }])).toHaveLength(1);
    expect(providerHistoryProblems([{ type: "human" }, { type: "tool", tool_call_id: "x" }])).toHaveLength(1);
    expect(providerHistoryProblems([{ type: "ai", invalid_tool_calls: [{ id: "b" }] }])).toHaveLength(1);
    expect(providerHistoryProblems([call("a")])).toEqual(["end: tool calls a have no result"]);
  });
});
