import { setMaxListeners } from "node:events";
import path from "node:path";
import { sleep, type ApiResponse, type RunRef, type Story } from "./api";
import { auditRuns, isFlagged, storageKey, type RunAudit, type ThreadAudit } from "./audit";
import { ChaosRig, type RigOptions } from "./rig";
import { subscribe, type SubscriberLog } from "./subscribers";
import { takeoverCauses, type TakeoverCauses } from "./takeovers";

const LOG_ROOT = path.resolve(__dirname, "../out/chaos");
/** Longest a scenario waits, after its fault, for every run to be terminal; past it the rest count as stuck. */
const SETTLE_MS = 60_000;
/** Quiet time after the last run ended, before the audit: a thawed or late writer gets its chance to misbehave. */
const QUIET_MS = 3_000;

/** What a scenario measures; each must be 0 (or all-matching) unless the scenario says Runline does not promise it. */
export type Target = "stuck" | "double" | "afterEnd" | "ends" | "cancels" | "state" | "subscribers" | "messages" | "recovered";

export interface Scenario {
  name: string;
  /** The fault and the load, in one line (the table's second column). */
  summary: string;
  rig: RigOptions;
  /** Targets Runline does not promise under this fault, with why; reported, not judged. */
  notGuaranteed?: Partial<Record<Target, string>>;
  run(ctx: ScenarioContext): Promise<void>;
}

/** What a scenario body works with: the rig, the runs it tracks, and its notes. */
export class ScenarioContext {
  readonly runs: RunRef[] = [];
  readonly notes: string[] = [];
  faultEndedAt: number | null = null;
  readonly subscribers: Array<Promise<SubscriberLog>> = [];
  readonly stopSubscribers = new AbortController();

  constructor(readonly rig: ChaosRig) {
    // One abort listener per subscriber (hundreds in random-kills), on purpose.
    setMaxListeners(0, this.stopSubscribers.signal);
  }

  /** Starts a tracked background run; `subscribe`: an SSE client joins it at once and reads it to `end`. */
  async startRun(threadId: string, story: Story, opts: { subscribe?: boolean; text?: string } = {}): Promise<RunRef> {
    const ref = { threadId, runId: await this.rig.api.startRun(threadId, story, opts.text) };
    this.runs.push(ref);
    if (opts.subscribe) this.subscribers.push(subscribe(this.rig.api.url, ref, this.stopSubscribers.signal));
    return ref;
  }

  track(ref: RunRef): void {
    this.runs.push(ref);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** The fault is over (servers back, processes thawed): recovery time counts from here. */
  faultEnded(): void {
    this.faultEndedAt = Date.now();
  }

  /** Threads something other than runs writes to (state updates): their message count is not checked. */
  readonly externallyWritten = new Set<string>();

  /** Runs of this scenario in `status`, per Postgres (null while Postgres does not answer). */
  count(status: string): Promise<number | null> {
    return this.countWhere(`status = '${status}'`);
  }

  /** Runs of this scenario matching a SQL condition on `runs` (e.g. `attempt >= 2`); null while Postgres is away. */
  async countWhere(condition: string): Promise<number | null> {
    try {
      const { rows } = await this.rig.ns.pool.query(`SELECT count(*)::int AS n FROM runs WHERE run_id = ANY($1::text[]) AND ${condition}`, [this.runs.map((r) => r.runId)]);
      return rows[0].n;
    } catch {
      return null;
    }
  }

  /** Polls `check` until it is true; throws naming `what` after `timeoutMs` (a scenario must end by itself). */
  async until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await Promise.resolve(check()).catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(100);
    }
  }

  /** Summarises a batch of answers (cancels, state updates) for the notes: statuses, outcomes, latency. */
  noteAnswers(label: string, answers: ApiResponse[]): void {
    const tally = (xs: string[]) => Object.entries(xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {})).map(([k, n]) => `${k}×${n}`).join(", ");
    const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
    this.note(
      `${label}: HTTP ${tally(answers.map((a) => String(a.status || a.error)))}; outcome or code ${tally(answers.map((a) => String(a.body?.outcome ?? a.body?.code ?? "-")))}; ` +
        `answered in p50 ${(ms[Math.floor(ms.length / 2)] / 1000).toFixed(2)} s, max ${(ms[ms.length - 1] / 1000).toFixed(2)} s`,
    );
  }
}

/** Everything one scenario measured, as written to results.json. */
export interface ScenarioResult {
  name: string;
  summary: string;
  measuredAt: string;
  durationS: number;
  error: string | null;
  runs: RunAudit[];
  threads: ThreadAudit[];
  /** Seconds from the fault's end to the last run's `finished_at` (null: not every run ended). */
  recoveryS: number | null;
  recovered: { ok: boolean; detail: string };
  takeovers: TakeoverCauses;
  notGuaranteed: Partial<Record<Target, string>>;
  notes: string[];
  logDir: string;
  /** Log lines (any process) that name a run the audit flagged, to start a diagnosis from. */
  flaggedLogs: Record<string, string[]>;
}

export async function runScenario(scenario: Scenario): Promise<ScenarioResult> {
  const started = Date.now();
  const rig = await ChaosRig.start(scenario.name, scenario.rig);
  const ctx = new ScenarioContext(rig);
  const logDir = path.join(LOG_ROOT, scenario.name);
  let error: string | null = null;
  try {
    try {
      await scenario.run(ctx);
    } catch (err) {
      error = (err as Error).stack ?? String(err);
      console.error(`chaos: ${scenario.name}: ${error}`);
    }
    ctx.faultEndedAt ??= Date.now();
    const lastFinished = await settle(ctx);
    await sleep(QUIET_MS);
    // Subscribers of finished runs have their `end` by now; give stragglers a moment, then stop the rest.
    await Promise.race([Promise.all(ctx.subscribers), sleep(5_000)]);
    ctx.stopSubscribers.abort();
    const logs = await Promise.all(ctx.subscribers);
    const { runs, threads } = await auditRuns(rig.ns, rig.api, ctx.runs, new Map(logs.map((l) => [l.runId, l])), ctx.externallyWritten);
    const attempts = runs.reduce<Record<number, number>>((m, r) => ((m[r.attempt] = (m[r.attempt] ?? 0) + 1), m), {});
    ctx.note(`runs by attempts: ${Object.entries(attempts).map(([a, n]) => `${n}×${a}`).join(", ")}`);
    const takeovers = takeoverCauses(rig.processes, runs);
    if (takeovers.takeovers) {
      ctx.note(`takeovers: ${takeovers.takeovers} (${takeovers.afterSignal} after the suite killed or froze the owner, ${takeovers.other} otherwise${takeovers.unknown ? `, ${takeovers.unknown} unattributed` : ""})${takeovers.examples.length ? `, e.g. ${takeovers.examples.join("; ")}` : ""}`);
    }
    const errors = runs.filter((r) => r.error).reduce<Record<string, number>>((m, r) => ((m[r.error!] = (m[r.error!] ?? 0) + 1), m), {});
    if (Object.keys(errors).length) ctx.note(`run errors: ${Object.entries(errors).map(([e, n]) => `${e}×${n}`).join(", ")}`);
    const recovered = await probe(rig);
    for (const p of rig.processes) if (!p.alive() && !p.killedOnPurpose()) ctx.note(`${p.name} exited by itself (${await p.exited})`);
    return {
      name: scenario.name,
      summary: scenario.summary,
      measuredAt: new Date(started).toISOString(),
      durationS: round((Date.now() - started) / 1000),
      error,
      runs,
      threads,
      recoveryS: lastFinished === null || runs.some((r) => !isTerminal(r.status)) ? null : round(Math.max(0, lastFinished - ctx.faultEndedAt) / 1000),
      recovered,
      takeovers,
      notGuaranteed: scenario.notGuaranteed ?? {},
      notes: ctx.notes,
      logDir: path.relative(path.resolve(__dirname, "../.."), logDir),
      flaggedLogs: flaggedLogs(rig, runs, threads),
    };
  } finally {
    ctx.stopSubscribers.abort();
    try {
      rig.writeLogs(logDir);
    } catch (err) {
      console.error(`chaos: ${scenario.name}: logs not written: ${err}`);
    }
    await rig.close();
  }
}

/** Waits until every tracked run is terminal (or SETTLE_MS passed); answers the last `finished_at` (ms). */
async function settle(ctx: ScenarioContext): Promise<number | null> {
  const deadline = Date.now() + SETTLE_MS;
  const ids = ctx.runs.map((r) => r.runId);
  for (;;) {
    try {
      const { rows } = await ctx.rig.ns.pool.query(
        `SELECT count(*) FILTER (WHERE status IN ('pending', 'running'))::int AS active, max(finished_at) AS last FROM runs WHERE run_id = ANY($1::text[])`,
        [ids],
      );
      if (rows[0].active === 0) return rows[0].last ? new Date(rows[0].last).getTime() : null;
    } catch {
      /* Postgres still coming back: poll again */
    }
    if (Date.now() > deadline) return null;
    await sleep(250);
  }
}

/** "Recovered without a restart": the same API and workers run a new story on a fresh thread to `success`. */
async function probe(rig: ChaosRig): Promise<{ ok: boolean; detail: string }> {
  if (!rig.apiProcess.alive()) return { ok: false, detail: `API process exited (${await rig.apiProcess.exited})` };
  if (!rig.liveWorkers().length) return { ok: false, detail: "no worker process left" };
  try {
    const threadId = await rig.api.newThread();
    const res = await rig.api.waitRun(threadId, { tokens: 5, delayMs: 1 }, "are you still there?", 30_000);
    const { rows } = await rig.ns.pool.query(`SELECT status FROM runs WHERE thread_id = $1`, [storageKey(threadId)]);
    const ok = res.status === 200 && rows[0]?.status === "success";
    return { ok, detail: `fresh-thread run: HTTP ${res.status || res.error}, run ${rows[0]?.status ?? "missing"}, ${(res.ms / 1000).toFixed(2)} s` };
  } catch (err) {
    return { ok: false, detail: `fresh-thread run failed: ${(err as Error).message}` };
  }
}

function flaggedLogs(rig: ChaosRig, runs: RunAudit[], threads: ThreadAudit[]): Record<string, string[]> {
  const flagged = runs.filter(isFlagged);
  const stuckThreads = threads.filter((t) => t.stuck).map((t) => t.threadId);
  const out: Record<string, string[]> = {};
  for (const id of [...flagged.slice(0, 5).map((r) => r.runId), ...stuckThreads.slice(0, 3)]) {
    out[id] = rig.processes.flatMap((p) => p.tail().filter((l) => l.includes(id)).map((l) => `${p.name}: ${l}`)).slice(-15);
  }
  return out;
}

export const isTerminal = (status: string) => !["pending", "running", "missing"].includes(status);
export const round = (x: number) => Math.round(x * 10) / 10;
