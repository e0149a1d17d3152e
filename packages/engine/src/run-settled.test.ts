import { randomUUID } from "node:crypto";
import { MemorySaver } from "@langchain/langgraph";
import { compileStoryGraph } from "@runline/graphs";
import { RunSettledHandler } from "./run-settled";

/** Counts the chain starts it is told about: only the root's when it sits on the root run alone. */
class CountingSettledHandler extends RunSettledHandler {
  chainStarts = 0;
  override handleChainStart(): void {
    this.chainStarts++;
  }
}

const graph = compileStoryGraph(new MemorySaver());

async function streamWith(handler: CountingSettledHandler, runId: string): Promise<number> {
  const stream = await graph.stream(
    { messages: [{ role: "user", content: "hi" }] },
    {
      streamMode: ["messages", "values"],
      configurable: { thread_id: randomUUID(), story_tokens: 20, story_token_delay_ms: 2 },
      callbacks: handler.rootCallbacks(),
      runId,
    },
  );
  let tokens = 0;
  for await (const [mode] of stream as AsyncIterable<[string]>) if (mode === "messages") tokens++;
  return tokens;
}

describe("RunSettledHandler.rootCallbacks", () => {
  it("reports the root run's end, and hears of no child run", async () => {
    const runId = randomUUID();
    const handler = new CountingSettledHandler(runId);
    expect(await streamWith(handler, runId)).toBe(20);
    expect(await handler.wait(2_000)).toBe(true);
    expect(handler.chainStarts).toBe(1);
  });

  it("reports the root run's end after an abort mid-stream", async () => {
    const runId = randomUUID();
    const handler = new CountingSettledHandler(runId);
    const controller = new AbortController();
    const stream = await graph.stream(
      { messages: [{ role: "user", content: "hi" }] },
      {
        streamMode: ["messages"],
        configurable: { thread_id: randomUUID(), story_tokens: 200, story_token_delay_ms: 2 },
        callbacks: handler.rootCallbacks(),
        runId,
        signal: controller.signal,
      },
    );
    let tokens = 0;
    await expect(
      (async () => {
        for await (const _ of stream as AsyncIterable<unknown>) if (++tokens === 3) controller.abort(new Error("cancelled"));
      })(),
    ).rejects.toThrow();
    expect(tokens).toBeLessThan(200);
    expect(await handler.wait(2_000)).toBe(true);
  });
});
