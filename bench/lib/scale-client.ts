// The client side of bench/scale-streams.ts, in its own process: N SDK streams at once against a Runline URL.
// Usage: tsx bench/lib/scale-client.ts <url> <streams> <tokens> <delayMs>  → one JSON line on stdout.
import { performance } from "node:perf_hooks";
import { Client } from "@langchain/langgraph-sdk";
import { storyInput } from "./workload";

async function main() {
  const [url, n, tokens, delayMs] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
  // The SDK queues requests past `maxConcurrency` (default 4: at most four POSTs waiting for their response
  // headers at once). N users would each have their own client; one client for all of them must lift the cap,
  // or the client, not the server, decides how many runs start per second.
  const client = new Client({ apiUrl: url, defaultHeaders: {}, callerOptions: { maxConcurrency: Infinity } });
  const threads = await Promise.all(Array.from({ length: n }, () => client.threads.create()));
  let streaming = 0;
  let peakStreaming = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const runs = await Promise.all(
    threads.map(async (thread) => {
      const t0 = performance.now();
      let ttftMs = Number.NaN;
      let count = 0;
      let status = "none";
      let runId = "";
      let error: unknown;
      for await (const chunk of client.runs.stream(thread.thread_id, "story", {
        input: storyInput(),
        streamMode: ["values", "messages-tuple"],
        config: { configurable: { story_tokens: tokens, story_token_delay_ms: delayMs } },
      })) {
        if (chunk.event === "messages") {
          if (count++ === 0) {
            ttftMs = performance.now() - t0;
            peakStreaming = Math.max(peakStreaming, ++streaming);
          }
        } else if (chunk.event === "metadata") runId = (chunk.data as { run_id?: string }).run_id ?? "";
        else if (chunk.event === "error") {
          status = "error";
          error = chunk.data;
        }
      }
      if (count > 0) streaming--;
      if (status !== "error") status = "success";
      // Ids and the error ride along so a run that came up short can be looked up afterwards.
      return { ttftMs, tokens: count, status, threadId: thread.thread_id, runId, ...(error === undefined ? {} : { error }) };
    }),
  );
  const wallMs = performance.now() - start;
  const c = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ wallMs, peakStreaming, clientCores: (c.user + c.system) / 1e3 / wallMs, runs }) + "\n");
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`scale-client: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
