import type { Pool } from "pg";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import {
  AppError,
  ConflictError,
  NotFoundError,
  newThreadId,
  threadKey,
  withPublicThreadId,
  type HistoryBody,
  type StateUpdateBody,
  type ThreadCreateBody,
  type ThreadRecord,
  type ThreadSearchBody,
} from "@runline/core";
import { pinPool, withTransaction, type RunsRepo, type ThreadFilter, type ThreadsRepo } from "@runline/db";
import { emptyThreadState, toThreadState, type GraphRegistry, type ThreadStateView } from "@runline/engine";
import type { CancelService } from "./cancel.service";

export interface ThreadsServiceDeps {
  pool: Pool;
  threads: ThreadsRepo;
  runs: RunsRepo;
  registry: GraphRegistry;
  checkpointer: BaseCheckpointSaver;
  cancels: CancelService;
}

const root = (threadId: string, checkpointId?: string, ns = "") => ({
  configurable: { thread_id: threadId, checkpoint_ns: ns, ...(checkpointId ? { checkpoint_id: checkpointId } : {}) },
});

/**
 * Threads and their LangGraph state, scoped to a tenant. Callers pass the public thread id; everything below
 * (repos, checkpointer, cancels) gets its storage key, so another tenant's id is simply a free one here.
 */
export class ThreadsService {
  constructor(private readonly deps: ThreadsServiceDeps) {}

  async create(tenantId: string, body: ThreadCreateBody): Promise<ThreadRecord> {
    const threadId = body.thread_id ?? newThreadId();
    const key = threadKey(tenantId, threadId);
    const created = await this.deps.threads.insert(tenantId, key, body.metadata ?? {});
    if (created) return created;
    const existing = body.if_exists === "do_nothing" ? await this.deps.threads.get(tenantId, key) : null;
    if (existing) return existing;
    throw new ConflictError("THREAD_EXISTS", `Thread ${threadId} already exists`);
  }

  /** The thread, or 404 (missing and foreign look the same). */
  async get(tenantId: string, threadId: string): Promise<ThreadRecord> {
    const thread = await this.deps.threads.get(tenantId, threadKey(tenantId, threadId));
    if (!thread) throw new NotFoundError("THREAD_NOT_FOUND", `Thread ${threadId} not found`);
    return thread;
  }

  search(tenantId: string, body: ThreadSearchBody) {
    return this.deps.threads.search(tenantId, filterOf(tenantId, body), { sortBy: body.sort_by, sortOrder: body.sort_order, limit: body.limit, offset: body.offset });
  }

  count(tenantId: string, body: Pick<ThreadSearchBody, "metadata" | "status">): Promise<number> {
    return this.deps.threads.count(tenantId, filterOf(tenantId, body));
  }

  async patch(tenantId: string, threadId: string, metadata: Record<string, unknown>): Promise<ThreadRecord> {
    const thread = await this.deps.threads.patchMetadata(tenantId, threadKey(tenantId, threadId), metadata);
    if (!thread) throw new NotFoundError("THREAD_NOT_FOUND", `Thread ${threadId} not found`);
    return thread;
  }

  /** Deletes the thread, its runs and its checkpoints. Active runs are cancelled first (their partials go too). */
  async delete(tenantId: string, threadId: string): Promise<void> {
    const thread = await this.get(tenantId, threadId);
    for (const run of await this.deps.runs.listActive(this.deps.pool, thread.thread_id)) {
      await this.deps.cancels.stopForDelete(run);
    }
    // Checkpoints first: a crash in between leaves the thread row (delete again), never checkpoints without a
    // thread that a re-created thread of the same id would inherit.
    await this.deps.checkpointer.deleteThread(thread.thread_id);
    if (!(await this.deps.threads.delete(tenantId, thread.thread_id))) throw new NotFoundError("THREAD_NOT_FOUND", `Thread ${threadId} not found`);
  }

  async getState(tenantId: string, threadId: string, checkpoint?: { checkpoint_id: string; checkpoint_ns?: string }): Promise<ThreadStateView> {
    const thread = await this.get(tenantId, threadId);
    await this.deps.cancels.settle(thread.thread_id);
    const graph = await this.graphOf(thread);
    if (!graph) {
      if (checkpoint) throw new NotFoundError("CHECKPOINT_NOT_FOUND", `Checkpoint ${checkpoint.checkpoint_id} not found in thread ${threadId}`);
      return emptyThreadState();
    }
    const config = root(thread.thread_id, checkpoint?.checkpoint_id, checkpoint?.checkpoint_ns);
    // LangGraph answers an unknown checkpoint id with an empty snapshot under that id: ask the saver instead.
    if (checkpoint && !(await this.deps.checkpointer.getTuple(config))) {
      throw new NotFoundError("CHECKPOINT_NOT_FOUND", `Checkpoint ${checkpoint.checkpoint_id} not found in thread ${threadId}`);
    }
    return toThreadState(await graph.getState(config));
  }

  /**
   * `updateState` on the head or on a given checkpoint (a fork). Refused while a run is pending or running: two
   * writers on one thread silently fork it. The thread row stays locked meanwhile, so no run can start.
   *
   * The lock is taken without waiting: a second update (or one arriving while a run starts) answers 409 at once
   * rather than parking a pooled connection behind the holder. The holder does its checkpoint reads and writes on
   * the connection that holds the lock (the pool is pinned to it), so it never waits for a second connection:
   * waiters for the row (runs starting) can fill the pool and the holder still finishes (issue #8). The writes
   * also commit or roll back with the lock, all or nothing.
   */
  async updateState(tenantId: string, threadId: string, body: StateUpdateBody) {
    const thread = await this.get(tenantId, threadId);
    const graph = await this.graphOf(thread);
    if (!graph) throw new AppError("VALIDATION_FAILED", `Thread ${threadId} has no graph yet: start a run on it first`, { status: 400 });
    const checkpointId = body.checkpoint?.checkpoint_id ?? body.checkpoint_id;
    const config = root(thread.thread_id, checkpointId, body.checkpoint?.checkpoint_ns ?? "");
    return withTransaction(this.deps.pool, async (tx) => {
      if (!(await this.deps.threads.lockNowait(tx, thread.thread_id))) throw new NotFoundError("THREAD_NOT_FOUND", `Thread ${threadId} not found`);
      const active = await this.deps.runs.listActive(tx, thread.thread_id);
      if (active.length) throw new ConflictError("THREAD_BUSY", `Thread ${threadId} is busy with run ${active[0].run_id}`);
      const written = await pinPool(this.deps.pool, tx, async () => {
        // LangGraph answers an unknown checkpoint id with an empty snapshot under that id: ask the saver instead.
        if (checkpointId && !(await this.deps.checkpointer.getTuple(config))) {
          throw new NotFoundError("CHECKPOINT_NOT_FOUND", `Checkpoint ${checkpointId} not found in thread ${threadId}`);
        }
        return graph.updateState(config, body.values, body.as_node);
      });
      // The LangGraph server answers `{checkpoint}`; the SDK's type says `{configurable}`: send both.
      const configurable = withPublicThreadId(written.configurable, thread.thread_id);
      return { checkpoint: { ...configurable, checkpoint_map: null }, configurable };
    });
  }

  /** Checkpoints of every branch, newest first (what the SDK's branch tree is built from). */
  async history(tenantId: string, threadId: string, body: HistoryBody): Promise<ThreadStateView[]> {
    const thread = await this.get(tenantId, threadId);
    await this.deps.cancels.settle(thread.thread_id);
    const graph = await this.graphOf(thread);
    if (!graph) return [];
    const before = typeof body.before === "string" ? body.before : body.before?.configurable?.checkpoint_id;
    const states: ThreadStateView[] = [];
    for await (const snapshot of graph.getStateHistory(root(thread.thread_id, undefined, body.checkpoint?.checkpoint_ns ?? ""), {
      limit: body.limit,
      ...(before ? { before: { configurable: { checkpoint_id: before } } } : {}),
      ...(body.metadata ? { filter: body.metadata } : {}),
    })) {
      states.push(toThreadState(snapshot));
    }
    return states;
  }

  private async graphOf(thread: ThreadRecord) {
    const graphId = thread.metadata.graph_id;
    return typeof graphId === "string" && this.deps.registry.entries().some((e) => e.graphId === graphId) ? this.deps.registry.get(graphId) : null;
  }
}

function filterOf(tenantId: string, body: Pick<ThreadSearchBody, "metadata" | "status"> & { ids?: string[] | null }): ThreadFilter {
  return { metadata: body.metadata, ids: body.ids?.map((id) => threadKey(tenantId, id)), status: body.status };
}
