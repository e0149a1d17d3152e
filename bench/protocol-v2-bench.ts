// Protocol v2 benchmark (issue #10): how long from `run.start` to the first v2 `messages` event, next to the
// classic TTFT of the same run (a classic `joinStream` subscriber on it).
//
//   npx tsx bench/protocol-v2-bench.ts                 Runline in its own OS process (as deployed); writes the
//                                                      "Protocol v2" section of bench/RESULTS.md
//   npx tsx bench/protocol-v2-bench.ts --in-process    API + worker in this process
// Options: --iterations N (30)  --warmup N (3)  --no-write
//
// Per run, three clients, all timed from the moment `run.start` is sent:
//   v2 (open before)  a `/stream/events` connection opened before the command (a page that is already attached);
//   v2 (open after)   one opened when the command answered, as `useStream` does for a new submit;
//   classic join      `GET …/runs/{rid}/stream?stream_mode=messages-tuple`, also opened when the command answered.
// Each time is to the first token frame (v2: the first `content-block-delta`; classic: the first `messages`).
import path from "node:path";
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { createTestNamespace, openSse, type SseStream } from "@runline/testing";
import { writeSection } from "./lib/results-md";
import { machineBusy } from "./lib/quiet";
import { startInProcessRunline, startRunlineProcess, type RunlineTarget } from "./lib/runline-target";
import { round, summarize, type Summary } from "./lib/stats";

const RESULTS_MD = path.resolve(__dirname, "RESULTS.md");

/** ms from `t0` until the stream yields a frame `isToken` accepts. */
async function firstToken(stream: SseStream, t0: number, isToken: (frame: { event: string; data: any }) => boolean): Promise<number> {
  for (;;) {
    const next = await stream.frames.next();
    if (next.done) throw new Error("stream ended before its first token");
    if (isToken(next.value)) return performance.now() - t0;
  }
}

const isV2Token = (f: { data: any }) => f.data?.method === "messages" && f.data.params?.data?.event === "content-block-delta";
const isClassicToken = (f: { event: string }) => f.event === "messages";
const isV2Terminal = (f: { data: any }) => f.data?.method === "lifecycle" && ["completed", "failed", "interrupted"].includes(f.data.params?.data?.event);

async function drainTo(stream: SseStream, done: (f: { event: string; data: any }) => boolean): Promise<void> {
  for (;;) {
    const next = await stream.frames.next();
    if (next.done || done(next.value)) return;
  }
}

interface Sample {
  v2Before: number;
  v2After: number;
  classic: number;
}

async function measureOne(target: RunlineTarget, prefix: string): Promise<Sample> {
  const threadId = `${prefix}-${randomUUID()}`;
  const events = (label: string) =>
    openSse(`${target.url}/threads/${threadId}/stream/events`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", "x-bench": label },
      body: JSON.stringify({ channels: ["messages", "lifecycle"] }),
    });
  const before = await events("before");
  const t0 = performance.now();
  const reply = await (
    await fetch(`${target.url}/threads/${threadId}/commands`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        id: 1,
        method: "run.start",
        params: { assistant_id: "story", input: { messages: [{ role: "user", content: "a story" }] }, config: { configurable: { story_tokens: 10, story_token_delay_ms: 5 } } },
      }),
    })
  ).json();
  if (reply.type !== "success") throw new Error(`run.start failed: ${JSON.stringify(reply)}`);
  const runId: string = reply.result.run_id;
  const [after, classic] = await Promise.all([events("after"), openSse(`${target.url}/threads/${threadId}/runs/${runId}/stream?stream_mode=messages-tuple`)]);
  const [v2Before, v2After, classicMs] = await Promise.all([firstToken(before, t0, isV2Token), firstToken(after, t0, isV2Token), firstToken(classic, t0, isClassicToken)]);
  // Every run ends before the next starts, so runs do not overlap.
  await Promise.all([drainTo(before, isV2Terminal), drainTo(classic, (f) => f.event === "end")]);
  before.close();
  after.close();
  classic.close();
  return { v2Before, v2After, classic: classicMs };
}

function row(label: string, s: Summary, classic: Summary): string {
  return `| ${label} | ${round(s.p50)} | ${round(s.p95)} | ${round(s.mean)} | ${round(s.p50 / classic.p50, 3)} |`;
}

async function main() {
  const { values } = parseArgs({
    options: {
      iterations: { type: "string", default: "30" },
      warmup: { type: "string", default: "3" },
      "in-process": { type: "boolean", default: false },
      "no-write": { type: "boolean", default: false },
    },
  });
  const iterations = Number(values.iterations);
  const warmup = Number(values.warmup);
  const ns = await createTestNamespace("bench-v2");
  const target = values["in-process"] ? await startInProcessRunline(ns) : await startRunlineProcess(ns);
  const busyBefore = await machineBusy(1000);
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < warmup + iterations; i++) {
      const sample = await measureOne(target, ns.id);
      if (i >= warmup) samples.push(sample);
    }
  } finally {
    await target.close();
    await ns.cleanup();
  }
  const busyAfter = await machineBusy(1000);
  const classic = summarize(samples.map((s) => s.classic));
  const before = summarize(samples.map((s) => s.v2Before));
  const after = summarize(samples.map((s) => s.v2After));
  const diffs = summarize(samples.map((s) => s.v2Before - s.classic));
  const diffsAfter = summarize(samples.map((s) => s.v2After - s.classic));
  const command = `npx tsx bench/protocol-v2-bench.ts${values["in-process"] ? " --in-process" : ""} --iterations ${iterations}`;
  const section = [
    "## Protocol v2",
    "",
    `Time from sending \`run.start\` to the first token, per client, in the same run (${iterations} runs after ${warmup} warm-up, one at a time,`,
    `10-token story, 5 ms apart; Runline ${target.mode}). \`${command}\`, ${new Date().toISOString().slice(0, 16)} UTC.`,
    "",
    `**The machine was shared** (2 cores, four other engineers building and testing): busy ${Math.round(busyBefore * 100)} % before and`,
    `${Math.round(busyAfter * 100)} % after the runs. Absolute milliseconds are inflated and noisy; read the ratios and the per-run differences.`,
    "",
    "| client | p50 ms | p95 ms | mean ms | p50 / classic p50 |",
    "|---|---|---|---|---|",
    row("classic joinStream (opened on the reply)", classic, classic),
    row("v2 /stream/events, opened before run.start", before, classic),
    row("v2 /stream/events, opened on the reply (useStream)", after, classic),
    "",
    `Per-run difference v2 − classic: opened before p50 ${round(diffs.p50)} ms (p95 ${round(diffs.p95)}), opened on the reply p50 ${round(diffsAfter.p50)} ms (p95 ${round(diffsAfter.p95)}).`,
    "The goal (issue #10) is within 2 ms of classic. Both read the same journal entry through the same hub; v2 adds one",
    "JSON parse and re-serialisation of the entry (the translator) and, for a connection opened late, a read of the runs table.",
    "",
  ].join("\n");
  console.log(section);
  if (!values["no-write"]) writeSection(RESULTS_MD, "Protocol v2", section);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
