import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Environment } from "../lib/environment";
import { writeSection } from "../lib/results-md";
import { isFlagged, type RunAudit } from "./audit";
import { isTerminal, type ScenarioResult, type Target } from "./scenario";

/** The figures of one table row, derived from a scenario's audits. */
export interface Figures {
  runs: number;
  endedAs: Record<string, number>;
  stuckRuns: number;
  stuckThreads: number;
  twiceAtOnce: number;
  journalAfterEnd: number;
  checkpointsAfterEnd: number;
  endsNotOne: number;
  cancelsRecorded: number;
  cancelsLost: number;
  stateChecked: number;
  stateMatched: number;
  subscribersChecked: number;
  subscribersExact: number;
  /** Threads whose runs all succeeded but whose head lacks some run's messages. */
  threadsMissingMessages: number;
  recoveryS: number | null;
  recovered: boolean;
}

export interface Verdict {
  target: Target | "scenario";
  /** null: Runline does not promise this target under this fault (reported only). */
  met: boolean | null;
  observed: string;
}

export function figuresOf(r: ScenarioResult): Figures {
  const count = (pred: (run: RunAudit) => boolean) => r.runs.filter(pred).length;
  const endedAs: Record<string, number> = {};
  for (const run of r.runs) endedAs[run.status] = (endedAs[run.status] ?? 0) + 1;
  const withSub = r.runs.filter((run) => run.subscriber);
  return {
    runs: r.runs.length,
    endedAs,
    stuckRuns: count((run) => !isTerminal(run.status)),
    stuckThreads: r.threads.filter((t) => t.stuck).length,
    twiceAtOnce: count((run) => run.interleaved > 0),
    journalAfterEnd: r.runs.reduce((n, run) => n + run.afterEnd, 0),
    checkpointsAfterEnd: r.runs.reduce((n, run) => n + run.checkpointsAfterEnd, 0),
    endsNotOne: count((run) => run.ends !== 1),
    cancelsRecorded: count((run) => run.cancelRequested),
    cancelsLost: count((run) => run.cancelRequested && run.status === "success"),
    stateChecked: count((run) => run.state !== "unchecked"),
    stateMatched: count((run) => run.state === "match"),
    subscribersChecked: withSub.length,
    subscribersExact: withSub.filter((run) => run.subscriber!.exact).length,
    threadsMissingMessages: r.threads.filter((t) => t.messagesOk === false).length,
    recoveryS: r.recoveryS,
    recovered: r.recovered.ok,
  };
}

/** Each target, judged, with what was seen when it was not met (run ids, rows, journals). */
export function verdictsOf(r: ScenarioResult, f: Figures): Verdict[] {
  const examples = (pred: (run: RunAudit) => boolean, show: (run: RunAudit) => string) =>
    r.runs.filter(pred).slice(0, 3).map((run) => `run ${run.runId} (thread ${run.threadId}): ${show(run)}`).join("; ");
  const row = (run: RunAudit) => `${run.status}, attempt ${run.attempt}, cancel ${run.cancelRequested ? run.cancelAction : "none"}, journal: ${run.journal}`;
  const judged = (target: Target, ok: boolean, observed: string): Verdict => ({ target, met: target in r.notGuaranteed ? null : ok, observed: ok ? "" : observed });
  const verdicts: Verdict[] = [
    judged("stuck", f.stuckRuns + f.stuckThreads === 0, [
      f.stuckRuns ? `${f.stuckRuns} runs not terminal 60 s after the fault: ${examples((run) => !isTerminal(run.status), row)}` : "",
      f.stuckThreads ? `${f.stuckThreads} threads busy with no active run: ${r.threads.filter((t) => t.stuck).slice(0, 3).map((t) => t.threadId).join(", ")}` : "",
    ].filter(Boolean).join("; ")),
    judged("double", f.twiceAtOnce === 0, `${f.twiceAtOnce} runs streamed by two attempts at once: ${examples((run) => run.interleaved > 0, (run) => `${run.interleaved} late tokens; ${row(run)}`)}`),
    judged("afterEnd", f.journalAfterEnd + f.checkpointsAfterEnd === 0,
      `${f.journalAfterEnd} journal entries and ${f.checkpointsAfterEnd} checkpoints after end: ${examples((run) => run.afterEnd + run.checkpointsAfterEnd > 0, (run) => `${run.afterEnd} entries, ${run.checkpointsAfterEnd} checkpoints after finished_at ${run.finishedAt}; ${row(run)}`)}`),
    judged("ends", f.endsNotOne === 0, `${f.endsNotOne} runs with ≠ 1 end: ${examples((run) => run.ends !== 1, (run) => `${run.ends} ends; ${row(run)}`)}`),
    judged("cancels", f.cancelsLost === 0, `${f.cancelsLost} runs ended success after a recorded cancel: ${examples((run) => run.cancelRequested && run.status === "success", row)}`),
    judged("state", f.stateMatched === f.stateChecked, `${f.stateChecked - f.stateMatched} heads differ from the stream: ${examples((run) => run.state === "mismatch", (run) => `${run.stateDetail}; ${row(run)}`)}`),
    judged("subscribers", f.subscribersExact === f.subscribersChecked, `${f.subscribersChecked - f.subscribersExact} SSE subscribers did not get every entry exactly once: ${examples((run) => run.subscriber?.exact === false, (run) => run.subscriber!.detail)}`),
    judged("messages", f.threadsMissingMessages === 0, `${f.threadsMissingMessages} threads lost messages: ${r.threads.filter((t) => t.messagesOk === false).slice(0, 3).map((t) => `${t.threadId}: ${t.messageDetail}`).join("; ")}`),
    judged("recovered", f.recovered, r.recovered.detail),
  ];
  if (r.error) verdicts.push({ target: "scenario", met: false, observed: `the scenario did not run to its end: ${r.error.split("\n")[0]}` });
  return verdicts;
}

const COLUMNS = ["Scenario", "Fault and load", "Runs: ended as", "Stuck", "Twice at once", "After `end` (journal / ckpt)", "≠ 1 `end`", "Cancels lost", "State = stream", "SSE exactly once", "Recovery (s)", "Recovered w/o restart"];

function cells(r: ScenarioResult, f: Figures, v: Verdict[]): string[] {
  // A figure Runline does not promise under this fault is marked †; one that misses its target is bold.
  const mark = (target: Target, text: string) => {
    const verdict = v.find((x) => x.target === target)!;
    return verdict.met === null ? `${text} †` : verdict.met ? text : `**${text}**`;
  };
  const ended = Object.entries(f.endedAs).map(([s, n]) => `${n} ${s}`).join(", ");
  return [
    `\`${r.name}\``,
    r.summary,
    `${f.runs}: ${ended}`,
    mark("stuck", f.stuckThreads ? `${f.stuckRuns} (+${f.stuckThreads} threads)` : String(f.stuckRuns)),
    mark("double", String(f.twiceAtOnce)),
    mark("afterEnd", `${f.journalAfterEnd} / ${f.checkpointsAfterEnd}`),
    mark("ends", String(f.endsNotOne)),
    mark("cancels", f.cancelsRecorded ? `${f.cancelsLost} of ${f.cancelsRecorded}` : "–"),
    mark("state", f.stateChecked ? `${f.stateMatched}/${f.stateChecked}` : "–"),
    mark("subscribers", f.subscribersChecked ? `${f.subscribersExact}/${f.subscribersChecked}` : "–"),
    f.recoveryS === null ? "**–**" : f.recoveryS.toFixed(1),
    mark("recovered", f.recovered ? "yes" : "no"),
  ];
}

/** The "Faults (npm run chaos)" section: the table, then what missed its target, then each scenario's notes. */
export function renderSection(entries: ChaosEntry[], env: Environment, command: string): string {
  const row = (xs: string[]) => `| ${xs.map((x) => x.replace(/\|/g, "\\|").replace(/\n/g, " ")).join(" | ")} |`;
  // From the stored figures: results.json keeps only the flagged runs, so figures cannot be recomputed from it.
  const judged = entries.map((e) => ({ r: e.result, f: e.figures, v: e.verdicts }));
  const results = judged.map((j) => j.r);
  const misses = judged.flatMap(({ r, v }) => v.filter((x) => x.met === false).map((x) => `- \`${r.name}\` — ${x.target}: ${x.observed}`));
  const relaxed = judged.flatMap(({ r }) => Object.entries(r.notGuaranteed).map(([t, why]) => `- † \`${r.name}\` — ${t}: ${why}`));
  return [
    "## Faults (npm run chaos)",
    "",
    `Measured ${env.date} on ${env.nproc} cores (${env.cpuModel}), Node ${env.node}; Redis ${env.redis}, Postgres ${env.postgres}. Code: git ${env.git}.`,
    `Command: \`${command}\` (per-run audits: \`bench/chaos/results.json\`; process logs: \`bench/out/chaos/<scenario>/\`). Scenarios: ${results.map((r) => `\`${r.name}\` ${r.measuredAt.slice(0, 16).replace("T", " ")}`).join(", ")}.`,
    "",
    "Each scenario runs Runline as deployed (one `--role api` process, `--role worker` processes) on a namespace of its own, with",
    "`RUNLINE_LOCK_DURATION_MS=1500`, `STALLED_INTERVAL_MS=500`, `RECONCILE_INTERVAL_MS=300`, `RECONCILE_GRACE_MS=1000`, `CONTROL_POLL_MS=300`,",
    "and the per-tenant run quotas raised (`TENANT_MAX_ACTIVE_RUNS=10000`, `TENANT_RUNS_PER_MINUTE=100000`: one tenant drives the whole load);",
    "servers it restarts are private (`startPrivateRedis` / `startPrivatePostgres`). After the fault it waits up to 60 s for every run to be",
    "terminal, 3 s more for late writers, then audits every run: **stuck** = not terminal by then (or its thread `busy` with nothing active);",
    "**twice at once** = a token of attempt k's message stored after attempt k+1's `metadata`; **after `end`** = journal entries after the first",
    "`end` / checkpoints of the thread stamped after `finished_at` and before the thread's next run started (LangGraph 1.7 keeps no run id in",
    "checkpoint metadata, so that window attributes them); **cancels lost** =",
    "`success` after a recorded cancel; **state = stream** = the thread head's last AI message equals the last attempt's streamed text (last run",
    "of its thread, `success` or `interrupted` with its partial on the head); **SSE exactly once** = a resumable subscriber (reconnecting with",
    "`Last-Event-ID`) got the journal's `messages`+`end` ids exactly, in order; **recovery** = fault end → last `finished_at`; **recovered w/o",
    "restart** = the same processes then run a story on a fresh thread to `success`. Bold: target missed; †: not promised under this fault.",
    "",
    row(COLUMNS),
    row(COLUMNS.map((_, i) => (i < 3 ? "---" : "---:"))),
    ...judged.map(({ r, f, v }) => row(cells(r, f, v))),
    "",
    ...(relaxed.length ? [...relaxed, ""] : []),
    "### Targets not met",
    "",
    ...(misses.length ? misses : ["- none: every target was met."]),
    "",
    "### Notes per scenario",
    "",
    ...judged.flatMap(({ r }) => [`- \`${r.name}\` (${r.durationS} s): ${[...r.notes, `probe: ${r.recovered.detail}`].join("; ")}.`]),
    "",
  ].join("\n");
}

export interface ChaosEntry {
  figures: Figures;
  verdicts: Verdict[];
  result: ScenarioResult;
}

export interface ChaosJson {
  env: Environment;
  command: string;
  scenarios: Record<string, ChaosEntry>;
}

/** Merges `results` into results.json (a one-scenario run replaces only its own entry) and answers the whole file. */
export function mergeJson(file: string, results: ScenarioResult[], env: Environment, command: string): ChaosJson {
  const previous: ChaosJson | null = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null;
  const json: ChaosJson = { env, command, scenarios: { ...(previous?.scenarios ?? {}) } };
  for (const r of results) {
    const figures = figuresOf(r);
    // Keep results.json readable: every flagged or failed run in full, the clean ones only counted in the figures.
    const flagged = r.runs.filter((run) => run.status === "error" || run.status === "timeout" || isFlagged(run));
    json.scenarios[r.name] = { figures, verdicts: verdictsOf(r, figures), result: { ...r, runs: flagged.slice(0, 50), threads: r.threads.filter((t) => t.stuck || t.messagesOk === false) } };
  }
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  return json;
}

export function writeMarkdown(file: string, section: string): void {
  writeSection(file, "Faults (npm run chaos)", section);
}
