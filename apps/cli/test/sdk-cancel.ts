import { Client } from "@langchain/langgraph-sdk";

/**
 * The user's round trip through the official SDK: stream a run of `graphId` (`words` words), cancel it after
 * `cancelAfter` tokens, then send "please continue". Returns what each step saw, for the test to judge.
 */
export async function streamCancelContinue(url: string, graphId: string, { words = 400, cancelAfter = 6 } = {}) {
  const client = new Client({ apiUrl: url });
  const thread = await client.threads.create();
  let runId = "";
  const tokens: string[] = [];
  let cancel: any;
  const stream = client.runs.stream(thread.thread_id, graphId, {
    input: { messages: [{ role: "user", content: "write a lot" }] },
    streamMode: ["messages-tuple"],
    config: { configurable: { words, delay_ms: 20 } },
    onRunCreated: (meta) => {
      runId = meta.run_id;
    },
  });
  for await (const chunk of stream) {
    if (chunk.event !== "messages") continue;
    tokens.push(String((chunk.data as any)[0].content));
    if (tokens.length === cancelAfter && !cancel) cancel = await client.runs.cancel(thread.thread_id, runId, true, "interrupt");
  }
  const afterCancel = await client.threads.getState<any>(thread.thread_id);
  const run = await client.runs.get(thread.thread_id, runId);
  const continued: any = await client.runs.wait(thread.thread_id, graphId, {
    input: { messages: [{ role: "user", content: "please continue" }] },
    config: { configurable: { words: 3, delay_ms: 0 } },
  });
  return { tokens, cancel, afterCancel: afterCancel.values, run, continued };
}
