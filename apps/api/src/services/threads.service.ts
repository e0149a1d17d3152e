import { ConflictError, NotFoundError, newThreadId, type HistoryBody, type ThreadCreateBody, type ThreadRecord } from "@runline/core";
import type { ThreadsRepo } from "@runline/db";
import { emptyThreadState, toThreadState, type GraphRegistry, type ThreadStateView } from "@runline/engine";

/** Threads and their LangGraph state, scoped to a tenant. */
export class ThreadsService {
  constructor(private readonly threads: ThreadsRepo, private readonly registry: GraphRegistry) {}

  async create(tenantId: string, body: ThreadCreateBody): Promise<ThreadRecord> {
    const threadId = body.thread_id ?? newThreadId();
    const created = await this.threads.insert(tenantId, threadId, body.metadata ?? {});
    if (created) return created;
    const existing = body.if_exists === "do_nothing" ? await this.threads.get(tenantId, threadId) : null;
    if (existing) return existing;
    throw new ConflictError("THREAD_EXISTS", `Thread ${threadId} already exists`);
  }

  /** The thread, or 404 (missing and foreign look the same). */
  async get(tenantId: string, threadId: string): Promise<ThreadRecord> {
    const thread = await this.threads.get(tenantId, threadId);
    if (!thread) throw new NotFoundError("THREAD_NOT_FOUND", `Thread ${threadId} not found`);
    return thread;
  }

  async getState(tenantId: string, threadId: string, checkpointId?: string): Promise<ThreadStateView> {
    const thread = await this.get(tenantId, threadId);
    const graph = await this.graphOf(thread);
    if (!graph) return emptyThreadState();
    const snapshot = await graph.getState({ configurable: { thread_id: threadId, checkpoint_ns: "", ...(checkpointId ? { checkpoint_id: checkpointId } : {}) } });
    const state = toThreadState(snapshot);
    if (checkpointId && state.checkpoint_id !== checkpointId) {
      throw new NotFoundError("CHECKPOINT_NOT_FOUND", `Checkpoint ${checkpointId} not found in thread ${threadId}`);
    }
    return state;
  }

  /** Checkpoints of every branch, newest first (what the SDK's branch tree is built from). */
  async history(tenantId: string, threadId: string, body: HistoryBody): Promise<ThreadStateView[]> {
    const thread = await this.get(tenantId, threadId);
    const graph = await this.graphOf(thread);
    if (!graph) return [];
    const before = typeof body.before === "string" ? body.before : body.before?.configurable?.checkpoint_id;
    const states: ThreadStateView[] = [];
    const config = { configurable: { thread_id: threadId, checkpoint_ns: body.checkpoint?.checkpoint_ns ?? "" } };
    for await (const snapshot of graph.getStateHistory(config, {
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
    return typeof graphId === "string" && this.registry.entries().some((e) => e.graphId === graphId) ? this.registry.get(graphId) : null;
  }
}
