import { collectorFromJournal } from "./partial-from-journal";
import { buildPartialMessage } from "./partial-message";

async function* entries(list: [string, unknown][]) {
  for (const [event, data] of list) yield { event, dataJson: JSON.stringify(data) };
}

const chunk = (id: string, content: string, node: string) => [{ type: "AIMessageChunk", id, content }, { langgraph_node: node }];

describe("collectorFromJournal (a dead worker's partial, rebuilt from its journal)", () => {
  it("keeps subgraph tokens and subgraph-committed messages under the root node that runs the subgraph", async () => {
    const collector = await collectorFromJournal(
      entries([
        ["metadata", { attempt: 1 }],
        ["messages|research:t1", chunk("m1", "Found", "gather")],
        ["updates|research:t1", { gather: { messages: [{ type: "ai", id: "m1", content: "Found" }] } }],
        ["messages|research:t1", chunk("m2", "Half", "answer")],
        ["messages", chunk("m3", "root", "other")],
        ["updates", { other: { chat: [{ type: "ai", id: "m3", content: "root" }] } }],
      ]),
    );
    expect(collector.inFlight().map((m) => [m.id, m.node, Boolean(m.committed), m.chunks.length])).toEqual([
      ["m1", "research", true, 1],
      ["m2", "research", false, 1],
    ]);
  });

  it("keeps the provider's usage, as a live cancel's partial does", async () => {
    const usage = { input_tokens: 5, output_tokens: 2, total_tokens: 7 };
    const collector = await collectorFromJournal(
      entries([
        ["metadata", { attempt: 1 }],
        ["messages", chunk("m1", "Once", "llm")],
        ["messages", [{ type: "AIMessageChunk", id: "m1", content: " upon", usage_metadata: usage }, { langgraph_node: "llm" }]],
      ]),
    );
    const [streamed] = collector.inFlight();
    const partial = buildPartialMessage(streamed!, { run_id: "r1", action: "interrupt", reason: "worker_lost" });
    expect(partial.content).toBe("Once upon");
    expect(partial.usage_metadata).toMatchObject(usage);
  });
});
