import type { Pool } from "pg";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import {
  AppError,
  ConflictError,
  NotFoundError,
  ReadCoalescer,
  ValidationError,
  isTerminalRunStatus,
  newRunId,
  newThreadId,
  threadKey,
  type RunKwargs,
  type RunRecord,
  type RunCreateBody,
  type RunStatus,
} from "@runline/core";
import { RunsRepo, ThreadsRepo, withTransaction } from "@runline/db";
import type { GraphRegistry, RunDispatcher } from "@runline/engine";
import { announceThreadRun, compareStreamIds, journalKeys, listenThreadRuns, normaliseLastEventId, subscribeRun, type JournalEntry, type JournalHub } from "@runline/journal";
import type Redis from "ioredis";
import type { RunAdmission } from "../quotas/run-admission";
import type { CancelService } from "./cancel.service";

export interface RunsServiceDeps {
  pool: Pool;
  threads: ThreadsRepo;
  runs: RunsRepo;
  registry: GraphRegistry;
  dispatcher: RunDispatcher;
  checkpointer: BaseCheckpointSaver;
  redis: Redis;
  hub: JournalHub;
  redisPrefix: string;
  cancels: CancelService;
  /** Per-tenant run quotas (active runs, creation rate); absent = no quotas. */
  admission?: RunAdmission;
}

/**
 * Run creation policy (multitask strategy, forks), reads, and journal subscriptions. Callers pass public thread
 * ids; the repos, the checkpointer, the queue and the thread channel get the thread's storage key.
 */
export class RunsService {
  constructor(private readonly deps: RunsServiceDeps) {}

  /**
   * A stateless run (`POST /runs/…`): a new thread of its own, deleted when the run ends unless
   * `on_completion: "keep"`.
   */
  async createStateless(tenantId: string, body: RunCreateBody): Promise<RunRecord> {
    const threadId = newThreadId();
    const key = threadKey(tenantId, threadId);
    await this.deps.threads.insert(tenantId, key, { runline_stateless: true });
    try {
      return await this.create(tenantId, threadId, body, { temporary: (body.on_completion ?? "delete") === "delete" });
    } catch (err) {
      // A refused run must change nothing: its thread goes too (no run or checkpoint of it exists yet).
      await this.deps.threads.deleteById(key).catch(() => undefined);
      throw err;
    }
  }

  async create(tenantId: string, threadId: string, body: RunCreateBody, options: { temporary?: boolean } = {}): Promise<RunRecord> {
    const { registry, threads, runs } = this.deps;
    rejectUnsupported(body);
    const graph = registry.resolveAssistant(body.assistant_id);
    const kwargs = { ...toKwargs(body), ...(options.temporary ? { temporary: true } : {}) };
    const strategy = body.multitask_strategy ?? "enqueue";
    const key = threadKey(tenantId, threadId);
    if (kwargs.checkpoint) await this.assertCheckpointExists(tenantId, threadId, kwargs.checkpoint, body.if_not_exists === "create");
    const stamp = { graph_id: graph.graphId, assistant_id: graph.assistantId };
    const quotaLock = await this.deps.admission?.lockFor(tenantId);
    // One round trip for the common case: BEGIN, the thread lock, the quota lock, then (each statement with its own
    // snapshot, so after both locks) the thread's active runs and the quota's counts.
    const opening = [
      ThreadsRepo.lockForNewRunStatement(tenantId, key, stamp),
      ...(quotaLock ? [quotaLock.statement] : []),
      RunsRepo.activeForNewRunStatement(key, tenantId),
    ].join("; ");
    const { run, toCancel, dispatch } = await withTransaction(
      this.deps.pool,
      async (tx, opened) => {
        let { activeRunIds, quota } = RunsRepo.readActiveForNewRun(opened[opened.length - 1]!);
        let quotaHeld = quotaLock ? { lock: quotaLock, counts: quota } : undefined;
        if (opened[0]!.rowCount === 0) {
          if (body.if_not_exists !== "create") throw new NotFoundError("THREAD_NOT_FOUND", `Thread ${threadId} not found`);
          // Locks in the usual order, thread first: the quota lock the opening took is given back meanwhile.
          if (quotaLock) await runs.dropQuotaLock(tx);
          if (!(await threads.insert(tenantId, key, {}, tx)) || !(await threads.lockForNewRun(tx, tenantId, key, stamp))) {
            throw new NotFoundError("THREAD_NOT_FOUND", `Thread ${threadId} not found`);
          }
          activeRunIds = [];
          quotaHeld = undefined;
        }
        if (activeRunIds.length && strategy === "reject") {
          throw new ConflictError("THREAD_BUSY", `Thread ${threadId} is busy with run ${activeRunIds[0]}; multitask_strategy=reject`);
        }
        // The runs this one replaces, whole (their cancels need them); the thread lock keeps the set as read above.
        const cancels = strategy === "interrupt" || strategy === "rollback";
        const toCancel = cancels && activeRunIds.length ? await runs.listActive(tx, key) : [];
        // Quotas last: only a request that would otherwise create the run counts (and a 429 rolls the lock back).
        await this.deps.admission?.admit(tx, tenantId, quotaHeld);
        // Nothing else of the thread active (the common case): the new run is its next, claimed as it is inserted.
        const next = activeRunIds.length === 0;
        // The rate is consumed beside the insert (one round trip less); a refusal rolls the insert back.
        const [created] = await Promise.all([
          runs.insert(
            tx,
            {
              run_id: newRunId(),
              thread_id: key,
              tenant_id: tenantId,
              assistant_id: graph.assistantId,
              graph_id: graph.graphId,
              metadata: body.metadata ?? {},
              multitask_strategy: strategy,
              kwargs,
            },
            { dispatched: next },
          ),
          this.deps.admission?.consumeRate(tenantId),
        ]);
        // Otherwise the dispatcher decides, as when a run finishes: the new run is claimed for the queue only if
        // nothing else of the thread is in flight.
        const dispatch = next ? this.deps.dispatcher.claimedAtInsert(created) : await this.deps.dispatcher.claim(tx, key);
        // Recorded with the new run, in one commit: if this process dies right after, the workers still find
        // the cancels (their poll reads them), and the new run never waits behind a run nobody stops.
        for (const old of toCancel) await runs.requestCancel(old.run_id, strategy === "rollback" ? "rollback" : "interrupt", tx);
        return { run: created, toCancel, dispatch };
      },
      opening,
    );
    // If this enqueue is lost (crash, Redis down), the reconciler finds the dispatched run without a job.
    await this.deps.dispatcher.enqueue(dispatch, key);
    // Wakes protocol v2 streams following the thread; a lost announcement only delays them (they re-read runs).
    await announceThreadRun(this.deps.redis, this.deps.redisPrefix, key, run.run_id).catch(() => undefined);
    // The new run waits behind the ones it cancels: the finisher dispatches it once their partial output is saved.
    for (const active of toCancel) {
      await this.deps.cancels.cancelRun(active, { wait: false, action: strategy === "rollback" ? "rollback" : "interrupt" });
    }
    return run;
  }

  /** Reads of one run asked for at about the same time share one query (a thousand subscribers joining a run at once). */
  private readonly reads = new ReadCoalescer<RunRecord | null>();

  async get(tenantId: string, threadId: string, runId: string): Promise<RunRecord> {
    const key = threadKey(tenantId, threadId);
    const run = await this.reads.run(`${tenantId}\n${key}\n${runId}`, () => this.deps.runs.get(tenantId, key, runId));
    if (!run) throw new NotFoundError("RUN_NOT_FOUND", `Run ${runId} not found`);
    return run;
  }

  async list(tenantId: string, threadId: string, query: { limit: number; offset: number; status?: RunStatus }): Promise<RunRecord[]> {
    const key = threadKey(tenantId, threadId);
    if (!(await this.deps.threads.get(tenantId, key))) throw new NotFoundError("THREAD_NOT_FOUND", `Thread ${threadId} not found`);
    return this.deps.runs.list(tenantId, key, query);
  }

  /**
   * The tenant's runs of the thread by ordinal (`thread_seq`): those after `afterSeq`; when it is null, from the
   * oldest unfinished run (or the latest, when all are finished). At most `limit`.
   */
  threadRuns(tenantId: string, threadId: string, afterSeq: number | null, limit: number): Promise<RunRecord[]> {
    return this.deps.runs.listByThreadSeq(tenantId, threadKey(tenantId, threadId), afterSeq, limit);
  }

  /** Unscoped re-read of a run (its status after its journal ended). */
  reread(runId: string): Promise<RunRecord | null> {
    return this.deps.runs.getById(runId);
  }

  /** Calls `onRun` whenever a run is created on the tenant's thread, in any API process. */
  onThreadRun(tenantId: string, threadId: string, onRun: () => void): Promise<() => void> {
    return listenThreadRuns(this.deps.hub, threadKey(tenantId, threadId), onRun);
  }

  /**
   * Every journal entry of the run after `lastEventId`, ending with its terminal event. `created`: this request
   * created the run just now, so it cannot have ended without its `end` nor outlived its journal, and the check for
   * such a silent run (a query) is skipped.
   */
  subscribe(
    run: RunRecord,
    lastEventId: string | undefined,
    signal: AbortSignal,
    options: { finishGraceMs?: number; created?: boolean } = {},
  ): AsyncIterable<JournalEntry> {
    return subscribeRun({
      finishGraceMs: options.finishGraceMs,
      redis: this.deps.redis,
      hub: this.deps.hub,
      prefix: this.deps.redisPrefix,
      runId: run.run_id,
      lastEventId,
      signal,
      isFinished: options.created
        ? undefined
        : async () => {
            const current = await this.deps.runs.getById(run.run_id);
            return !current || isTerminalRunStatus(current.status);
          },
    });
  }

  /**
   * Waits for the run to end and returns what `/runs/wait` and `/join` answer: the run's last `values` event
   * (as stored JSON), or `{__error__}` when it failed, or null when it produced no values. `created`: see
   * {@link RunsService.subscribe}.
   */
  async result(run: RunRecord, signal: AbortSignal, options: { created?: boolean } = {}): Promise<string | null> {
    let lastValues: string | null = null;
    let error: string | null = null;
    for await (const entry of this.subscribe(run, undefined, signal, options)) {
      if (entry.event === "values") lastValues = entry.dataJson;
      else if (entry.event === "error") error = entry.dataJson;
    }
    return error ? `{"__error__":${error}}` : lastValues;
  }

  /** Deletes a finished run (204); an active one must be cancelled first (409). */
  async delete(tenantId: string, threadId: string, runId: string): Promise<void> {
    const run = await this.get(tenantId, threadId, runId);
    if (!isTerminalRunStatus(run.status)) {
      throw new ConflictError("THREAD_BUSY", `Run ${runId} is ${run.status}; cancel it before deleting it`);
    }
    await this.deps.runs.deleteFinished(tenantId, run.thread_id, runId);
  }

  /**
   * Where a stream resumes: the client's `Last-Event-ID` as a full stream id (undefined = from the start).
   * Refused with 400 before any SSE header goes out when it is malformed, beyond what Redis ids can hold
   * (2^64-1 per part, which XRANGE would reject mid-stream), or after the run's last journal entry (an id the
   * server never sent, which would wait forever).
   */
  async resumePoint(run: RunRecord, lastEventId: string | undefined): Promise<string | undefined> {
    const after = normaliseLastEventId(lastEventId);
    if (!after) return undefined;
    const shown = JSON.stringify(lastEventId!.slice(0, 64));
    if (after.split("-").some((part) => compareDigitStrings(part, MAX_STREAM_ID_PART) > 0)) {
      throw new ValidationError(`Last-Event-ID ${shown} is out of range`, { lastEventId: lastEventId!.slice(0, 64) }, 400);
    }
    const newest = (await this.deps.redis.xrevrange(journalKeys(this.deps.redisPrefix).events(run.run_id), "+", "-", "COUNT", 1))[0]?.[0];
    // No journal of a finished run: past its retention, and the subscription just ends. No journal of a run in
    // flight: it has sent nothing yet (the run row was read first, so anything it sent would show), so no id
    // can be one the client saw.
    const beyond = newest ? compareStreamIds(after, newest) > 0 : !isTerminalRunStatus(run.status);
    if (beyond) {
      throw new ValidationError(`Last-Event-ID ${shown} is after the run's last event`, { lastEventId: lastEventId!.slice(0, 64) }, 400);
    }
    return after;
  }

  private async assertCheckpointExists(tenantId: string, threadId: string, checkpoint: { checkpoint_id: string; checkpoint_ns?: string }, createsThread: boolean) {
    const key = threadKey(tenantId, threadId);
    if (!(await this.deps.threads.get(tenantId, key))) {
      // A thread about to be created has no checkpoints; otherwise the transaction answers THREAD_NOT_FOUND.
      if (createsThread) throw new NotFoundError("CHECKPOINT_NOT_FOUND", `Checkpoint ${checkpoint.checkpoint_id} not found in thread ${threadId}`);
      return;
    }
    const tuple = await this.deps.checkpointer.getTuple({
      configurable: { thread_id: key, checkpoint_ns: checkpoint.checkpoint_ns ?? "", checkpoint_id: checkpoint.checkpoint_id },
    });
    if (!tuple) throw new NotFoundError("CHECKPOINT_NOT_FOUND", `Checkpoint ${checkpoint.checkpoint_id} not found in thread ${threadId}`);
  }
}

/** Fields Runline does not implement yet are refused, never silently ignored. */
function rejectUnsupported(body: RunCreateBody): void {
  const unsupported: string[] = [];
  if (body.webhook) unsupported.push("webhook");
  if (body.feedback_keys?.length) unsupported.push("feedback_keys");
  if (unsupported.length) {
    throw new AppError("UNSUPPORTED", `Not supported by this server yet: ${unsupported.join(", ")}`, { status: 422 });
  }
}

/** The largest value of either part of a Redis stream id (an unsigned 64-bit integer). */
const MAX_STREAM_ID_PART = "18446744073709551615";

function compareDigitStrings(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The run's fork point, wherever the client put it: `checkpoint`, `checkpoint_id`, or (what `@langchain/react`
 * v1's `forkFrom` sends) `config.configurable.checkpoint_id`. One place, so every form is checked to exist.
 */
function forkPointOf(body: RunCreateBody): RunKwargs["checkpoint"] {
  if (body.checkpoint?.checkpoint_id) return { checkpoint_id: body.checkpoint.checkpoint_id, checkpoint_ns: body.checkpoint.checkpoint_ns ?? "" };
  if (body.checkpoint_id) return { checkpoint_id: body.checkpoint_id, checkpoint_ns: "" };
  const configurable = body.config?.configurable;
  if (configurable?.checkpoint_id) return { checkpoint_id: configurable.checkpoint_id, checkpoint_ns: configurable.checkpoint_ns ?? "" };
  return null;
}

function toKwargs(body: RunCreateBody): RunKwargs {
  const checkpoint = forkPointOf(body);
  return {
    input: body.input ?? null,
    command: body.command ?? null,
    config: body.config ?? {},
    context: body.context ?? null,
    stream_mode: body.stream_mode ?? ["values"],
    stream_subgraphs: body.stream_subgraphs ?? false,
    stream_resumable: body.stream_resumable ?? false,
    on_disconnect: body.on_disconnect ?? "continue",
    interrupt_before: body.interrupt_before ?? null,
    interrupt_after: body.interrupt_after ?? null,
    checkpoint,
    ...(body.after_seconds ? { after_seconds: body.after_seconds } : {}),
  };
}
