import { publicThreadId, withPublicThreadId } from "@runline/core";
import { toWire } from "./wire-format";

/** A checkpoint reference as the LangGraph server returns it. */
export interface CheckpointRefView {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  checkpoint_map: null;
}

/** The LangGraph server's ThreadState, plus the flat ids the Python server also sends. */
export interface ThreadStateView {
  values: unknown;
  next: string[];
  tasks: unknown[];
  metadata: Record<string, unknown>;
  created_at: string | null;
  checkpoint: CheckpointRefView | null;
  parent_checkpoint: CheckpointRefView | null;
  checkpoint_id: string | null;
  parent_checkpoint_id: string | null;
  interrupts: unknown[];
}

function ref(config: any): CheckpointRefView | null {
  const c = config?.configurable;
  if (!c?.checkpoint_id) return null;
  // LangGraph's config names the thread by its storage key; a client only ever sees its own id.
  return { thread_id: publicThreadId(c.thread_id), checkpoint_ns: c.checkpoint_ns ?? "", checkpoint_id: c.checkpoint_id, checkpoint_map: null };
}

/** A thread with no checkpoint yet: `checkpoint: null` is what `useStream` checks, so never 404 here. */
export function emptyThreadState(): ThreadStateView {
  return {
    values: {},
    next: [],
    tasks: [],
    metadata: {},
    created_at: null,
    checkpoint: null,
    parent_checkpoint: null,
    checkpoint_id: null,
    parent_checkpoint_id: null,
    interrupts: [],
  };
}

/** Converts a LangGraph StateSnapshot to the wire shape. */
export function toThreadState(snapshot: any): ThreadStateView {
  if (!snapshot?.config?.configurable?.checkpoint_id) return emptyThreadState();
  const checkpoint = ref(snapshot.config);
  const parent = ref(snapshot.parentConfig);
  const tasks = (snapshot.tasks ?? []).map((task: any) => ({
    id: task.id,
    name: task.name,
    path: task.path ?? [],
    error: task.error ? String(task.error?.message ?? task.error) : null,
    interrupts: toWire(task.interrupts ?? []),
    checkpoint: null,
    state: null,
    result: task.result === undefined ? null : toWire(task.result),
  }));
  return {
    values: toWire(snapshot.values ?? {}),
    next: snapshot.next ?? [],
    tasks,
    metadata: withPublicThreadId((toWire(snapshot.metadata ?? {}) as Record<string, unknown>) ?? {}, snapshot.config.configurable.thread_id),
    created_at: snapshot.createdAt ?? null,
    checkpoint,
    parent_checkpoint: parent,
    checkpoint_id: checkpoint?.checkpoint_id ?? null,
    parent_checkpoint_id: parent?.checkpoint_id ?? null,
    interrupts: tasks.flatMap((t: any) => t.interrupts),
  };
}
