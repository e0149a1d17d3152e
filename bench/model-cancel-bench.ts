// Cancel → upstream socket closed: how long after `POST …/cancel` does the model provider see its connection
// close? Runline (API + worker in this process) runs ChatOpenAI against the fake OpenAI-compatible server from
// @runline/testing over real loopback HTTP; the fake records `performance.now()` when each request's socket
// closes, in the same process as the client, so both ends use one clock.
//
//   npx tsx bench/model-cancel-bench.ts [--iterations 100] [--warmup 5] [--no-write]
//     (needs Redis and Postgres: `bash scripts/with-services.sh npx tsx bench/model-cancel-bench.ts`)
//
// Appends a "Cancel → upstream socket closed" section to bench/RESULTS.md.
import { appendFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { loadConfig } from "@runline/config";
import { createTestNamespace, namespaceEnv, openSse, startFakeOpenAIServer } from "@runline/testing";
import { startRunline } from "../apps/runline/src/runtime";

const { values } = parseArgs({ options: { iterations: { type: "string", default: "100" }, warmup: { type: "string", default: "5" }, "no-write": { type: "boolean", default: false } } });
const iterations = Number(values.iterations);
const warmup = Number(values.warmup);

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

async function main() {
  const fake = await startFakeOpenAIServer({ kind: "stream", tokens: Array.from({ length: 2000 }, (_, i) => ` w${i}`), delayMs: 10 });
  const ns = await createTestNamespace("bench-model-cancel");
  const config = loadConfig({ ...namespaceEnv(ns), HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "error", RUNLINE_MODEL_PROVIDER: "openai", OPENAI_BASE_URL: fake.baseURL });
  const runline = await startRunline(config);
  const url = runline.url!;
  const toClose: number[] = [];
  const toAnswer: number[] = [];
  try {
    for (let i = 0; i < warmup + iterations; i++) {
      const thread = await (await fetch(`${url}/threads`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json();
      const stream = await openSse(`${url}/threads/${thread.thread_id}/runs/stream`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ assistant_id: "story", input: { messages: [{ role: "user", content: "go" }] }, stream_mode: ["messages-tuple"] }),
      });
      const runId = stream.headers.get("content-location")!.split("/").pop()!;
      // Cancel once tokens flow, so the provider request is mid-stream.
      let seen = 0;
      for await (const frame of stream.frames) if (frame.event === "messages" && ++seen >= 5) break;
      const request = fake.requests.at(-1)!;
      const sent = performance.now();
      const answer = fetch(`${url}/threads/${thread.thread_id}/runs/${runId}/cancel?wait=1&action=interrupt`, { method: "POST" });
      await request.closed;
      const closedAt = request.closedAt!;
      await (await answer).json();
      const answered = performance.now();
      if (!request.clientClosed) throw new Error("the provider finished its reply: the cancel did not close the request");
      if (i >= warmup) {
        toClose.push(closedAt - sent);
        toAnswer.push(answered - sent);
      }
    }
  } finally {
    await runline.close();
    await fake.close();
    await ns.cleanup();
  }
  const close = [...toClose].sort((a, b) => a - b);
  const ans = [...toAnswer].sort((a, b) => a - b);
  const fmt = (n: number) => n.toFixed(1);
  const row = (name: string, s: number[]) => `| ${name} | ${fmt(quantile(s, 0.5))} | ${fmt(quantile(s, 0.99))} | ${fmt(s[s.length - 1])} |`;
  const load = os.loadavg().map((l) => l.toFixed(2)).join(" / ");
  const section = [
    "",
    "## Cancel → upstream socket closed (ChatOpenAI over real HTTP)",
    "",
    `${new Date().toISOString()}, \`npx tsx bench/model-cancel-bench.ts\` (via scripts/with-services.sh), ${iterations} cancels after ${warmup} warm-up, Node ${process.version}, ${os.cpus().length} cores, load average ${load} (1/5/15 min).`,
    "The machine is shared with four other engineers' builds and tests: these are figures under unknown load, not a quiet baseline.",
    "Runline (API + worker in one process) runs `ChatOpenAI` (@langchain/openai 1.5.8) against the fake OpenAI-compatible server of",
    "`@runline/testing` on loopback; each cancel is sent after the 5th token; the server records when its socket closes (same process, same clock).",
    "",
    "| ms from `POST …/cancel?wait=1` | p50 | p99 | max |",
    "|---|---:|---:|---:|",
    row("provider sees its socket close", close),
    row("cancel answered (partial committed)", ans),
    "",
  ].join("\n");
  process.stdout.write(section + "\n");
  if (!values["no-write"]) appendFileSync(path.join(__dirname, "RESULTS.md"), section);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
