import { RUN_STATUSES, ValidationError, isTerminalRunStatus, publicThreadId, type RunRecord, type TerminalRunStatus } from "@runline/core";
import type { RunsRepo } from "@runline/db";
import type { ThreadStateView } from "@runline/engine";
import { journalKeys } from "@runline/journal";
import { listWorkerHeartbeats } from "@runline/queue";
import type Redis from "ioredis";

/** What the run dashboard reads: runs across every tenant, the run journals' lengths, and the queue's job counts. */
export interface OpsServiceDeps {
  runs: RunsRepo;
  redis: Redis;
  redisPrefix: string;
  /** BullMQ `queue.getJobCounts("waiting", "active", "delayed")`. */
  jobCounts(): Promise<Record<string, number>>;
  /** Every checkpoint of the tenant's thread, all branches, newest first (`ThreadsService.history`); null = no such thread. */
  threadHistory?(tenantId: string, threadId: string): Promise<ThreadStateView[] | null>;
  /** The tenants that have a thread of this public id (at most 2: one is all the tree needs to know). */
  tenantsWithThread?(threadId: string): Promise<string[]>;
}

/** One checkpoint of a thread's tree, as the dashboard shows it. */
export interface OpsCheckpointNode {
  checkpoint_id: string;
  parent_id: string | null;
  created_at: string | null;
  source: string | null;
  step: number | null;
  /** Distance from a root (a checkpoint whose parent is not in the history). */
  depth: number;
  children: string[];
  message_count: number;
  last_message: { type: string | null; text: string } | null;
  /** When the last message is a partial Runline saved on a cancel/timeout. */
  partial: { token_count: number; run_id: string; action: string } | null;
  /** The thread's current head (its newest checkpoint). */
  head: boolean;
  /** On the path from a root to the head. */
  on_head_path: boolean;
}

export interface OpsThreadTree {
  thread_id: string;
  head: string | null;
  /** Depth-first from the roots, oldest sibling first: render in this order, indented by `depth`. */
  checkpoints: OpsCheckpointNode[];
}

/** A live worker process, from its heartbeat key. */
export interface OpsWorkerView {
  worker_id: string;
  started_at: string;
  beat_at: string;
  /** Since the process started. */
  age_ms: number;
  concurrency: number;
  active_run_ids: string[];
  /** Runs this worker's reconciler moved on after a lost step, by repair. */
  reconciled: Record<string, number>;
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
    // One XLEN per run, not a pipeline: on a Redis Cluster the runs' streams are in different slots.
    const lengths = await Promise.all(runs.map((run) => this.deps.redis.xlen(keys.events(run.run_id)).catch(() => null)));
    const now = Date.now();
    return runs.map((run, i) => this.view(run, now - Date.parse(run.created_at), lengths[i] ?? null));
  }

  async recent(opts: { status?: TerminalRunStatus; limit?: number } = {}): Promise<OpsRunView[]> {
    const runs = await this.deps.runs.listRecentFinished({ status: opts.status, limit: opts.limit ?? 50 });
    return runs.map((run) =>
      this.view(run, run.finished_at ? Date.parse(run.finished_at) - Date.parse(run.created_at) : 0, run.partial?.token_count ?? null),
    );
  }

  /**
   * The thread's checkpoint tree (every branch), of any tenant; null when there is no such thread. Thread ids are
   * per tenant: without `tenantId` the id must belong to one tenant only (400 when several hold it).
   */
  async threadTree(threadId: string, tenantId?: string): Promise<OpsThreadTree | null> {
    if (!this.deps.threadHistory) return null;
    const tenant = tenantId ?? (await this.onlyTenantWith(threadId));
    if (!tenant) return null;
    const states = await this.deps.threadHistory(tenant, threadId);
    if (!states) return null;
    return buildThreadTree(threadId, states);
  }

  private async onlyTenantWith(threadId: string): Promise<string | null> {
    const tenants = (await this.deps.tenantsWithThread?.(threadId)) ?? [];
    if (tenants.length > 1) throw new ValidationError(`Thread ${threadId} exists in several tenants: add ?tenant_id=`, { tenants }, 400);
    return tenants[0] ?? null;
  }

  /**
   * Worker processes whose heartbeat has not expired, and the Redis masters that did not answer in time (on a
   * cluster, the workers whose keys those hold are missing from the list).
   */
  async workers(): Promise<{ workers: OpsWorkerView[]; unreachableNodes: string[] }> {
    const now = Date.now();
    const { workers, unreachableNodes } = await listWorkerHeartbeats(this.deps.redis, this.deps.redisPrefix);
    const views = workers.map((w) => ({
      worker_id: w.worker_id,
      started_at: w.started_at,
      beat_at: w.beat_at,
      age_ms: Math.max(0, now - Date.parse(w.started_at)),
      concurrency: w.concurrency,
      active_run_ids: w.active_run_ids ?? [],
      reconciled: w.reconciled ?? {},
    }));
    return { workers: views, unreachableNodes };
  }

  /** A run by id, whatever its tenant, or null. */
  get(runId: string): Promise<RunRecord | null> {
    return this.deps.runs.getById(runId);
  }

  private view(run: RunRecord, ageMs: number, tokens: number | null): OpsRunView {
    return {
      run_id: run.run_id,
      thread_id: publicThreadId(run.thread_id),
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

const PREVIEW_CHARS = 80;

/** Builds the tree from `history()` (newest first): head = the newest checkpoint. */
export function buildThreadTree(threadId: string, states: ThreadStateView[]): OpsThreadTree {
  const nodes = new Map<string, OpsCheckpointNode>();
  for (const state of states) {
    const id = state.checkpoint?.checkpoint_id;
    if (!id || nodes.has(id)) continue;
    const messages = messagesOf(state.values);
    const last = messages.length ? (messages[messages.length - 1] as Record<string, any>) : null;
    const metadata = state.metadata ?? {};
    const marker = last?.response_metadata?.runline_partial;
    nodes.set(id, {
      checkpoint_id: id,
      parent_id: state.parent_checkpoint?.checkpoint_id ?? null,
      created_at: state.created_at,
      source: typeof metadata.source === "string" ? metadata.source : null,
      step: typeof metadata.step === "number" ? metadata.step : null,
      depth: 0,
      children: [],
      message_count: messages.length,
      last_message: last ? { type: typeof last.type === "string" ? last.type : null, text: textOf(last.content).slice(0, PREVIEW_CHARS) } : null,
      partial: marker && typeof marker === "object" ? { token_count: Number(marker.token_count ?? 0), run_id: String(marker.run_id ?? ""), action: String(marker.action ?? "") } : null,
      head: false,
      on_head_path: false,
    });
  }
  const head = states.find((s) => s.checkpoint?.checkpoint_id)?.checkpoint?.checkpoint_id ?? null;
  // Children oldest first: history is newest first, so walk it backwards.
  const ordered = [...nodes.values()].reverse();
  const roots: OpsCheckpointNode[] = [];
  for (const node of ordered) {
    const parent = node.parent_id ? nodes.get(node.parent_id) : undefined;
    if (parent) parent.children.push(node.checkpoint_id);
    else roots.push(node);
  }
  if (head) {
    nodes.get(head)!.head = true;
    for (let at: OpsCheckpointNode | undefined = nodes.get(head), guard = 0; at && guard <= nodes.size; guard++) {
      at.on_head_path = true;
      at = at.parent_id ? nodes.get(at.parent_id) : undefined;
    }
  }
  const out: OpsCheckpointNode[] = [];
  const seen = new Set<string>();
  const stack = roots.reverse().map((node) => ({ node, depth: 0 }));
  while (stack.length) {
    const { node, depth } = stack.pop()!;
    if (seen.has(node.checkpoint_id)) continue;
    seen.add(node.checkpoint_id);
    node.depth = depth;
    out.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push({ node: nodes.get(node.children[i])!, depth: depth + 1 });
  }
  return { thread_id: threadId, head, checkpoints: out };
}

function messagesOf(values: unknown): unknown[] {
  const messages = values && typeof values === "object" ? (values as Record<string, unknown>).messages : undefined;
  return Array.isArray(messages) ? messages : [];
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part === "string" ? part : typeof part?.text === "string" ? part.text : "")).join("");
  return "";
}
