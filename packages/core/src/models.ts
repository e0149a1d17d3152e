import type { CancelAction, MultitaskStrategy, RunStatus, ThreadStatus } from "./status";

/** A thread as stored; `tenant_id` never leaves the service. */
export interface ThreadRecord {
  /** The storage key, `threadKey(tenant_id, public id)`: views answer `publicThreadId(thread_id)`. */
  thread_id: string;
  tenant_id: string;
  status: ThreadStatus;
  metadata: Record<string, unknown>;
  config: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

/** What a run was asked to do; the LangGraph server calls this `kwargs`. */
export interface RunKwargs {
  input: unknown;
  command: Record<string, unknown> | null;
  config: { configurable?: Record<string, unknown>; tags?: string[]; recursion_limit?: number; [key: string]: unknown };
  context: Record<string, unknown> | null;
  stream_mode: string[];
  stream_subgraphs: boolean;
  stream_resumable: boolean;
  on_disconnect: "cancel" | "continue";
  interrupt_before: string[] | "*" | null;
  interrupt_after: string[] | "*" | null;
  checkpoint: { checkpoint_id: string; checkpoint_ns?: string } | null;
  /** A stateless run (`POST /runs/…`) with `on_completion: "delete"`: its thread goes when the run ends. */
  temporary?: boolean;
  /** Start no sooner than this many seconds after creation. */
  after_seconds?: number;
}

/** What a cancel left behind: where the partial output was saved (Runline's addition to the run). */
export interface RunPartial {
  message_id: string | null;
  token_count: number;
  checkpoint_id: string | null;
  parent_checkpoint_id: string | null;
  action: CancelAction;
  /** The thread head after the cancel: the partial (interrupt) or the restored pre-run state (rollback). */
  head_checkpoint_id: string | null;
}

/** A run as stored. */
export interface RunRecord {
  run_id: string;
  /** The thread's storage key (see {@link ThreadRecord.thread_id}). */
  thread_id: string;
  tenant_id: string;
  assistant_id: string;
  graph_id: string;
  status: RunStatus;
  metadata: Record<string, unknown>;
  multitask_strategy: MultitaskStrategy;
  kwargs: RunKwargs;
  attempt: number;
  /** Attempts that handed the run on while draining (not counted as lost). */
  handoffs: number;
  error: { error: string; message: string } | null;
  cancel_action: CancelAction | null;
  cancel_requested_at: string | null;
  partial: RunPartial | null;
  start_checkpoint_id: string | null;
  start_checkpoint_recorded: boolean;
  /** The run's ordinal in its thread (1, 2, …): protocol v2 derives event `seq` from it. */
  thread_seq: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}
