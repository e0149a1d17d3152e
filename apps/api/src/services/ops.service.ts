import { RUN_STATUSES, isTerminalRunStatus, type RunRecord, type TerminalRunStatus } from "@runline/core";
import type { RunsRepo } from "@runline/db";
import { journalKeys } from "@runline/journal";
import type Redis from "ioredis";

/** What the run dashboard reads: runs across every tenant, the run journals' lengths, and the queue's job counts. */
export interface OpsServiceDeps {
  runs: RunsRepo;
  redis: Redis;
  redisPrefix: string;
  /** BullMQ `queue.getJobCounts("waiting", "active", "delayed")`. */
  jobCounts(): Promise<Record<string, number>>;
}

/** One run as the dashboard lists it. */
export interface OpsRunView {
  run_id: string;
  thread_id: string;
  tenant_id: string;
  graph_id: string;
  assistant_id: string;
  status: string;
  attempt: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Since the run was created (active runs) or how long it took, created → finished (finished runs). */
  age_ms: number;
  /**
   * Active runs: entries in the run's journal so far (`XLEN`: one per streamed token, plus a few state events);
   * finished runs: the saved partial's token count when there is one, else null.
   */
  tokens: number | null;
  cancel_requested_at: string | null;
  cancel_action: string | null;
  error: RunRecord["error"];
  partial: RunRecord["partial"];
}

export interface OpsOverview {
  now: string;
  queue: { waiting: number; active: number; delayed: number } | null;
  active: OpsRunView[];
  recent: OpsRunView[];
}

const TERMINAL = RUN_STATUSES.filter((s): s is TerminalRunStatus => isTerminalRunStatus(s));

/** Parses a recent-runs status filter; anything else (or "all") means every terminal status. */
export function parseFinishedStatus(value: unknown): TerminalRunStatus | undefined {
  return typeof value === "string" && (TERMINAL as string[]).includes(value) ? (value as TerminalRunStatus) : undefined;
}

/** Read-only queries behind the admin run dashboard (`/admin/dashboard`). Not tenant-scoped: admin key only. */
export class OpsService {
  constructor(private readonly deps: OpsServiceDeps) {}

  async overview(opts: { status?: TerminalRunStatus; limit?: number } = {}): Promise<OpsOverview> {
    const [queue, active, recent] = await Promise.all([this.queue(), this.active(), this.recent(opts)]);
    return { now: new Date().toISOString(), queue, active, recent };
  }

  /** Waiting/active/delayed jobs, or null while the queue does not answer (the dashboard still shows the runs). */
  async queue(): Promise<OpsOverview["queue"]> {
    try {
      const counts = await this.deps.jobCounts();
      return { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0 };
    } catch {
      return null;
    }
  }

  async active(limit = 200): Promise<OpsRunView[]> {
    const runs = await this.deps.runs.listActiveAll(limit);
    if (runs.length === 0) return [];
    const keys = journalKeys(this.deps.redisPrefix);
    const pipeline = this.deps.redis.pipeline();
    for (const run of runs) pipeline.xlen(keys.events(run.run_id));
    const lengths = (await pipeline.exec()) ?? [];
    const now = Date.now();
    return runs.map((run, i) => {
      const [err, len] = lengths[i] ?? [null, 0];
      return this.view(run, now - Date.parse(run.created_at), err ? null : Number(len));
    });
  }

  async recent(opts: { status?: TerminalRunStatus; limit?: number } = {}): Promise<OpsRunView[]> {
    const runs = await this.deps.runs.listRecentFinished({ status: opts.status, limit: opts.limit ?? 50 });
    return runs.map((run) =>
      this.view(run, run.finished_at ? Date.parse(run.finished_at) - Date.parse(run.created_at) : 0, run.partial?.token_count ?? null),
    );
  }

  /** A run by id, whatever its tenant, or null. */
  get(runId: string): Promise<RunRecord | null> {
    return this.deps.runs.getById(runId);
  }

  private view(run: RunRecord, ageMs: number, tokens: number | null): OpsRunView {
    return {
      run_id: run.run_id,
      thread_id: run.thread_id,
      tenant_id: run.tenant_id,
      graph_id: run.graph_id,
      assistant_id: run.assistant_id,
      status: run.status,
      attempt: run.attempt,
      created_at: run.created_at,
      started_at: run.started_at,
      finished_at: run.finished_at,
      age_ms: Math.max(0, Math.round(ageMs)),
      tokens,
      cancel_requested_at: run.cancel_requested_at,
      cancel_action: run.cancel_action,
      error: run.error,
      partial: run.partial,
    };
  }
}
