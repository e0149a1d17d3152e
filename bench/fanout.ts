// "Scale: fan-out" benchmark (issue #12): one story run (200 tokens at 10 ms) watched by S subscribers that all join
// it at once with `GET /threads/{t}/runs/{r}/stream` (what the SDK's `client.runs.joinStream` sends).
//
//   npm run bench:fanout                    S = 0, 100, 500, 1000, twice each; writes the "Scale: fan-out" section
//                                           of bench/RESULTS.md and bench/out/fanout.json
//   npx tsx bench/fanout.ts --subscribers 1000 --repeat 1 --profile bench/out/prof/fanout --no-write
//                                           Runline under `node --cpu-prof` (written when it exits), for
//                                           `npx tsx bench/summarize-cpuprofile.ts bench/out/prof/fanout`
//
// Options: --subscribers 0,100,500,1000  --repeat N (2)  --clients N (client processes, 2)  --tokens N (200)
//          --delay-ms N (10)  --quiet-wait S (30)  --profile DIR  --no-write
//
// Who runs where: Runline in its own OS process as deployed (API + worker, `startRunlineProcess`); the subscribers
// in `--clients` forked client processes (bench/lib/fanout-client.ts, raw node:http, one socket per subscriber);
// this process only creates the run, starts the clients and reads the journal afterwards.
//
// Delivery lag of a token = the subscriber's receive time (performance.timeOrigin + now(), sub-ms) − the ms part of
// the token's journal id (Redis stamps it at XADD; Redis runs on this machine, so one clock). Ids are whole ms, so
// each lag reads 0–1 ms high. "Live" lags only count tokens appended after that subscriber's response headers
// (a backlog token read at join time is join latency, not delivery lag); "all" counts every token.
import { fork, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { baseEventName, journalKeys } from "@runline/journal";
import { createTestNamespace } from "@runline/testing";
import { describeEnvironment, type Environment } from "./lib/environment";
import type { ClientReport, FanoutGo, SubscriberResult } from "./lib/fanout-client";
import { createThread } from "./lib/over-http";
import { startCpuMonitor, taggedDatabaseUrl, waitForQuiet, type CpuShare } from "./lib/quiet";
import { writeSection } from "./lib/results-md";
import { startProcMemorySampler, startRunlineProcess } from "./lib/runline-target";
import { round, summarize, type Summary } from "./lib/stats";
import { storyRunBody } from "./lib/workload";

const REPO_ROOT = path.resolve(__dirname, "..");
const OUT_DIR = path.join(REPO_ROOT, "bench", "out");
const RESULTS_MD = path.join(REPO_ROOT, "bench", "RESULTS.md");
const GOALS = { lagP95Ms: 100, joinP95Ms: 200 };

interface Options {
  subscribers: number[];
  repeat: number;
  clients: number;
  tokens: number;
  delayMs: number;
  quietWaitS: number;
  profile: string | null;
  write: boolean;
}

function readOptions(argv = process.argv.slice(2)): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      subscribers: { type: "string", default: "0,100,500,1000" },
      repeat: { type: "string", default: "2" },
      clients: { type: "string", default: "2" },
      tokens: { type: "string", default: "200" },
      "delay-ms": { type: "string", default: "10" },
      "quiet-wait": { type: "string", default: "30" },
      profile: { type: "string" },
      "no-write": { type: "boolean", default: false },
    },
  });
  const int = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
    return n;
  };
  return {
    subscribers: values.subscribers!.split(",").map((s) => int("subscribers", s.trim())),
    repeat: Math.max(1, int("repeat", values.repeat)),
    clients: Math.max(1, int("clients", values.clients)),
    tokens: int("tokens", values.tokens),
    delayMs: int("delay-ms", values["delay-ms"]),
    quietWaitS: int("quiet-wait", values["quiet-wait"]),
    profile: values.profile ? path.resolve(values.profile) : null,
    write: !values["no-write"],
  };
}

/** A forked client process, ready for "go". */
async function startClient(): Promise<ChildProcess> {
  const child = fork(path.join(__dirname, "lib", "fanout-client.ts"), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`fan-out client exited (${code}) before it was ready`)));
  });
  return child;
}

function runClient(child: ChildProcess, go: FanoutGo): Promise<ClientReport> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`fan-out client exited (${code})`));
    child.once("exit", onExit);
    child.once("message", (msg: ClientReport) => {
      child.off("exit", onExit);
      resolve(msg);
    });
    child.send(go);
  });
}

interface RunPace {
  tokens: number;
  /** metadata appended → end appended, ms (journal ids). */
  wallMs: number;
  /** first token appended → last token appended, ms, divided by the gaps between them. */
  msPerToken: number;
}

interface Sample {
  subscribers: number;
  rep: number;
  run: RunPace;
  /** Subscribers whose token ids equal the journal's, in order, with an `end`, and HTTP 200. */
  exact: number;
  failures: string[];
  joinMs: number[];
  /** Request sent → response headers (the server took the request, checked it and read the run). */
  headersMs: number[];
  lagLiveMs: number[];
  lagAllMs: number[];
  clientCpuCores: number[];
  cpu: CpuShare;
  /** Runline's CPU over the scenario (joins included) per SSE frame it wrote, µs. */
  cpuUsPerFrame: number;
  rss: { peakRssMb: number; rssBeforeMb: number };
}

async function measure(
  url: string,
  redis: import("ioredis").Redis,
  prefix: string,
  clients: ChildProcess[],
  opts: Options,
  subscribers: number,
  rep: number,
  runlinePid: number,
): Promise<Sample> {
  const threadId = await createThread(url);
  const cpuMonitor = startCpuMonitor(runlinePid);
  const cpuFrom = performance.now();
  const mem = startProcMemorySampler(runlinePid);
  const res = await fetch(`${url}/threads/${threadId}/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: storyRunBody({ tokens: opts.tokens, delayMs: opts.delayMs }),
  });
  if (res.status !== 200) throw new Error(`POST runs answered ${res.status}: ${await res.text()}`);
  const runId = ((await res.json()) as { run_id: string }).run_id;
  const joinUrl = `${url}/threads/${threadId}/runs/${runId}/stream`;
  // Every subscriber is asked for at once, right after the run was created (it is starting meanwhile).
  const per = clients.map((_, i) => Math.floor(subscribers / clients.length) + (i < subscribers % clients.length ? 1 : 0));
  const reports = await Promise.all(clients.map((c, i) => (per[i]! > 0 ? runClient(c, { type: "go", url: joinUrl, count: per[i]!, timeoutMs: 120_000 }) : null)));
  // S = 0: wait for the run's end by polling its status.
  for (let i = 0; i < 600; i++) {
    const run = (await (await fetch(`${url}/threads/${threadId}/runs/${runId}`)).json()) as { status: string };
    if (run.status !== "pending" && run.status !== "running") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const cpu = cpuMonitor.stop();
  const cpuWallS = (performance.now() - cpuFrom) / 1000;
  const rss = mem.stop();

  const entries = (await redis.xrange(journalKeys(prefix).events(runId), "-", "+")) as Array<[string, string[]]>;
  const eventOf = (fields: string[]) => fields[fields.indexOf("e") + 1] ?? "";
  const tokenIds = entries.filter(([, f]) => baseEventName(eventOf(f)) === "messages").map(([id]) => id);
  const ms = (id: string) => Number(id.split("-")[0]);
  const metadata = entries.find(([, f]) => eventOf(f) === "metadata")?.[0];
  const end = entries.find(([, f]) => eventOf(f) === "end")?.[0];
  const run: RunPace = {
    tokens: tokenIds.length,
    wallMs: metadata && end ? ms(end) - ms(metadata) : Number.NaN,
    msPerToken: tokenIds.length > 1 ? (ms(tokenIds.at(-1)!) - ms(tokenIds[0]!)) / (tokenIds.length - 1) : Number.NaN,
  };
  // What delivery costs per frame: Runline's CPU over the scenario (joins included) over the frames it wrote.
  const framesPerSubscriber = entries.filter(([, f]) => ["metadata", "values", "messages", "end"].includes(baseEventName(eventOf(f)))).length;
  const cpuUsPerFrame = subscribers > 0 ? (cpu.runlineCores * cpuWallS * 1e6) / (subscribers * framesPerSubscriber) : Number.NaN;
  const digest = createHash("sha1").update(tokenIds.join(",")).digest("hex");
  const results: SubscriberResult[] = reports.flatMap((r) => r?.results ?? []);
  const failures: string[] = [];
  let exact = 0;
  for (const r of results) {
    if (r.status === 200 && r.gotEnd && r.tokens === tokenIds.length && r.idsDigest === digest) exact += 1;
    else if (failures.length < 5) failures.push(`status ${r.status}, tokens ${r.tokens}/${tokenIds.length}, end ${r.gotEnd}, ids ${r.idsDigest === digest ? "match" : "differ"}${r.error ? `, ${r.error}` : ""}`);
  }
  return {
    subscribers,
    rep,
    run,
    exact,
    failures,
    joinMs: results.map((r) => r.joinMs),
    headersMs: results.map((r) => r.headersMs),
    lagLiveMs: results.flatMap((r) => r.lagMs.filter((_, i) => r.live[i])),
    lagAllMs: results.flatMap((r) => r.lagMs),
    clientCpuCores: reports.filter((r): r is ClientReport => !!r).map((r) => r.cpuCores),
    cpu,
    cpuUsPerFrame,
    rss,
  };
}

interface Row {
  subscribers: number;
  reps: number;
  exact: string;
  join: Summary;
  lagLive: Summary;
  lagAll: Summary;
  msPerToken: number[];
  runWallMs: number[];
  perRep: Array<{ joinP95: number; lagLiveP95: number; lagAllP95: number; othersCores: number }>;
  runlineCores: number;
  servicesCores: number;
  clientCores: number;
  othersCores: number;
  peakRssMb: number;
  rssBeforeMb: number;
}

function toRow(samples: Sample[]): Row {
  const s0 = samples[0]!;
  const med = (xs: number[]) => summarize(xs).p50;
  const expected = samples.reduce((a, s) => a + s.subscribers, 0);
  return {
    subscribers: s0.subscribers,
    reps: samples.length,
    exact: `${samples.reduce((a, s) => a + s.exact, 0)}/${expected}`,
    join: summarize(samples.flatMap((s) => s.joinMs)),
    lagLive: summarize(samples.flatMap((s) => s.lagLiveMs)),
    lagAll: summarize(samples.flatMap((s) => s.lagAllMs)),
    msPerToken: samples.map((s) => s.run.msPerToken),
    runWallMs: samples.map((s) => s.run.wallMs),
    perRep: samples.map((s) => ({ joinP95: summarize(s.joinMs).p95, lagLiveP95: summarize(s.lagLiveMs).p95, lagAllP95: summarize(s.lagAllMs).p95, othersCores: s.cpu.othersCores - s.clientCpuCores.reduce((a, b) => a + b, 0) })),
    runlineCores: med(samples.map((s) => s.cpu.runlineCores)),
    servicesCores: med(samples.map((s) => s.cpu.servicesCores)),
    clientCores: med(samples.map((s) => s.clientCpuCores.reduce((a, b) => a + b, 0))),
    othersCores: med(samples.map((s) => s.cpu.othersCores - s.clientCpuCores.reduce((a, b) => a + b, 0))),
    peakRssMb: Math.max(...samples.map((s) => s.rss.peakRssMb)),
    rssBeforeMb: Math.min(...samples.map((s) => s.rss.rssBeforeMb)),
  };
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–");
const f2 = (v: number) => (Number.isFinite(v) ? Math.max(0, v).toFixed(2) : "–");
const cells = (xs: Array<string | number>) => `| ${xs.join(" | ")} |`;

function render(env: Environment, command: string, opts: Options, rows: Row[], before?: string): string {
  const base = rows.find((r) => r.subscribers === 0);
  const basePace = base ? summarize(base.msPerToken).p50 : Number.NaN;
  const baseWall = base ? summarize(base.runWallMs).p50 : Number.NaN;
  const lines = [
    "## Scale: fan-out",
    "",
    `Measured ${env.date} on ${env.nproc} cores (${env.cpuModel}), Node ${env.node}; Redis ${env.redis}, Postgres ${env.postgres}. Code: git ${env.git}.`,
    `Command: \`${command}\` (raw numbers: \`bench/out/fanout.json\`).`,
    "",
    `- One story run (${opts.tokens} tokens at ${opts.delayMs} ms, \`stream_mode: ["values", "messages-tuple"]\`) created with \`POST /threads/{t}/runs\`;`,
    "  right after it answers, S subscribers join it at once with `GET /threads/{t}/runs/{r}/stream` (the SDK's `client.runs.joinStream`),",
    `  from ${opts.clients} separate client processes (raw node:http, one socket each; \`bench/lib/fanout-client.ts\`). Runline runs in its own`,
    "  OS process (API + worker, as deployed). Each S is measured " + `${opts.repeat}× (percentiles pool the repetitions).`,
    "- **Join → first event**: request sent → first SSE event parsed by that subscriber.",
    "- **Delivery lag**: subscriber receive time − the token's append time, read from its journal id (`<ms>-<seq>`, stamped by Redis at XADD;",
    "  same machine, same clock; ids are whole ms, so each value reads 0–1 ms high). *Live* counts tokens appended after that subscriber's",
    "  response headers (what delivery costs); *all* also counts backlog tokens a late joiner read at join.",
    "- **Exactly once, in order**: each subscriber's token ids (in arrival order) equal the journal's, and it got `end`.",
    "- **Run pace**: from journal ids, (last token − first token) / (tokens − 1), and metadata → end; S = 0 is the same run unwatched.",
    "- CPU in cores' worth over the scenario (from `/proc`): Runline process, Redis + Postgres, the client processes, and what was left",
    "  for other sessions on this shared machine (load from others makes the numbers worse, never better).",
    "",
    cells(["S", "exactly once, in order", "join → first event p50 / p95 (ms)", "lag live p50 / p95 / max (ms)", "lag all p50 / p95 (ms)", "run ms/token (S=0: " + f2(basePace) + ")", "run wall (ms)", "Runline CPU (cores)", "Redis+PG", "clients", "others", "Runline RSS peak (MB)"]),
    cells(["---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]),
    ...rows.map((r) =>
      cells([
        r.subscribers,
        r.subscribers ? r.exact : "–",
        r.subscribers ? `${f1(r.join.p50)} / ${f1(r.join.p95)}` : "–",
        r.subscribers ? `${f1(r.lagLive.p50)} / ${f1(r.lagLive.p95)} / ${f1(r.lagLive.max)}` : "–",
        r.subscribers ? `${f1(r.lagAll.p50)} / ${f1(r.lagAll.p95)}` : "–",
        r.msPerToken.map(f2).join(", "),
        r.runWallMs.map((v) => v.toFixed(0)).join(", "),
        f2(r.runlineCores),
        f2(r.servicesCores),
        r.subscribers ? f2(r.clientCores) : "–",
        f2(r.othersCores),
        `${r.peakRssMb.toFixed(0)} (idle ${r.rssBeforeMb.toFixed(0)})`,
      ]),
    ),
    "",
    "Per repetition (p95s; others = other sessions' CPU in cores): " +
      rows
        .filter((r) => r.subscribers)
        .map((r) => `S=${r.subscribers}: ${r.perRep.map((p) => `join ${f1(p.joinP95)}, lag live ${f1(p.lagLiveP95)}, all ${f1(p.lagAllP95)} (others ${f2(p.othersCores)})`).join("; ")}`)
        .join(". ") +
      ".",
    "",
    "Goals (S = 1,000):",
    "",
  ];
  const top = rows.find((r) => r.subscribers === 1000);
  if (top) {
    const pace = summarize(top.msPerToken).p50;
    const wall = summarize(top.runWallMs).p50;
    lines.push(`- delivery lag p95 ≤ ${GOALS.lagP95Ms} ms: live ${f1(top.lagLive.p95)} ms (all tokens ${f1(top.lagAll.p95)} ms), **${top.lagLive.p95 <= GOALS.lagP95Ms ? "met" : "not met"}**.`);
    lines.push(`- join → first event p95 ≤ ${GOALS.joinP95Ms} ms: ${f1(top.join.p95)} ms, **${top.join.p95 <= GOALS.joinP95Ms ? "met" : "not met"}**.`);
    lines.push(`- every subscriber got every token exactly once, in order: ${top.exact}.`);
    lines.push(`- the run not slowed: ${f2(pace)} ms/token and ${wall.toFixed(0)} ms wall vs ${f2(basePace)} ms/token and ${baseWall.toFixed(0)} ms unwatched (${((pace / basePace - 1) * 100).toFixed(1)}% per token).`);
  }
  if (before) lines.push("", before);
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  const opts = readOptions();
  const ns = await createTestNamespace("fanout");
  const clients: ChildProcess[] = [];
  const nodeArgs = opts.profile ? ["--cpu-prof", "--cpu-prof-dir", opts.profile] : [];
  const runline = await startRunlineProcess(ns, { databaseUrl: taggedDatabaseUrl(ns.databaseUrl, `bench-${ns.id}`), nodeArgs });
  try {
    for (let i = 0; i < opts.clients; i++) clients.push(await startClient());
    const env = await describeEnvironment(ns.redis, ns.pool);
    console.error(`fanout: Runline pid ${runline.pid} at ${runline.url}; ${opts.clients} client processes; namespace ${ns.id}`);
    // Warm-up: one watched run, so module loading and JIT are not in the first sample.
    await measure(runline.url, ns.redis, runline.config.redisPrefix, clients, opts, Math.min(50, Math.max(...opts.subscribers)), 0, runline.pid);
    const samples: Sample[] = [];
    for (let rep = 1; rep <= opts.repeat; rep++) {
      for (const s of opts.subscribers) {
        const quiet = await waitForQuiet(opts.quietWaitS * 1000, 0.25);
        const sample = await measure(runline.url, ns.redis, runline.config.redisPrefix, clients, opts, s, rep, runline.pid);
        samples.push(sample);
        const j = summarize(sample.joinMs);
        const h = summarize(sample.headersMs);
        const l = summarize(sample.lagLiveMs);
        const a = summarize(sample.lagAllMs);
        console.error(
          `fanout: S=${s} rep ${rep}: exact ${sample.exact}/${s}, join p50/p95 ${f1(j.p50)}/${f1(j.p95)} ms (headers ${f1(h.p50)}/${f1(h.p95)}), lag live p50/p95/max ${f1(l.p50)}/${f1(l.p95)}/${f1(l.max)} ms, all p95 ${f1(a.p95)}, ` +
            `run ${f2(sample.run.msPerToken)} ms/token ${sample.run.wallMs} ms wall (${sample.run.tokens} tokens); Runline ${f2(sample.cpu.runlineCores)} cores (${f1(sample.cpuUsPerFrame)} µs per frame written), clients ${sample.clientCpuCores.map(f2).join("+")}, ` +
            `machine ${f2(sample.cpu.machineCores)} (busy before ${(quiet.busy * 100).toFixed(0)}%), RSS peak ${sample.rss.peakRssMb.toFixed(0)} MB` +
            (sample.failures.length ? `; FAILURES: ${sample.failures.join(" | ")}` : ""),
        );
      }
    }
    const rows = opts.subscribers.map((s) => toRow(samples.filter((x) => x.subscribers === s)));
    const command = `npm run bench:fanout${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
    mkdirSync(OUT_DIR, { recursive: true });
    const json = {
      env,
      command,
      options: opts,
      rows: rows.map((r) => ({ ...r, join: roundSummary(r.join), lagLive: roundSummary(r.lagLive), lagAll: roundSummary(r.lagAll) })),
      samples: samples.map(({ joinMs, headersMs, lagLiveMs, lagAllMs, ...rest }) => ({ ...rest, join: roundSummary(summarize(joinMs)), headers: roundSummary(summarize(headersMs)), lagLive: roundSummary(summarize(lagLiveMs)), lagAll: roundSummary(summarize(lagAllMs)) })),
    };
    const jsonName = opts.write ? "fanout.json" : "fanout-partial.json";
    writeFileSync(path.join(OUT_DIR, jsonName), JSON.stringify(json, null, 2) + "\n");
    const section = render(env, command, opts, rows, process.env.FANOUT_BEFORE_NOTE);
    console.log(section);
    if (opts.write) writeSection(RESULTS_MD, "Scale: fan-out", section);
    console.error(`fanout: wrote bench/out/${jsonName}${opts.write ? " and the \"Scale: fan-out\" section of bench/RESULTS.md" : ""}`);
  } finally {
    for (const c of clients) c.kill();
    await runline.close();
    await ns.cleanup();
  }
}

function roundSummary(s: Summary): Summary {
  return { n: s.n, p50: round(s.p50), p95: round(s.p95), min: round(s.min), max: round(s.max), mean: round(s.mean) };
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error("fanout: FAILED:", err);
    process.exit(1);
  },
);
