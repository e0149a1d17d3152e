import { z } from "zod";
import { CANCEL_ACTIONS, MULTITASK_STRATEGIES, RUN_STATUSES, THREAD_STATUSES } from "./status";
import { SUPPORTED_STREAM_MODES } from "./stream-modes";

const JsonObject = z.record(z.string(), z.unknown());
const Id = z.string().min(1).max(200).regex(/^[A-Za-z0-9_.-]+$/, "may only contain letters, digits, '_', '.' and '-'");

/** Path parameters. */
export const ThreadParams = z.object({ threadId: Id });
export const RunParams = z.object({ threadId: Id, runId: Id });

/** POST /threads */
export const ThreadCreateBody = z.object({
  thread_id: Id.optional(),
  metadata: JsonObject.optional(),
  if_exists: z.enum(["raise", "do_nothing"]).default("raise"),
});
export type ThreadCreateBody = z.infer<typeof ThreadCreateBody>;

const CheckpointRef = z.object({
  checkpoint_id: z.string().min(1),
  checkpoint_ns: z.string().optional(),
  checkpoint_map: z.record(z.string(), z.unknown()).nullable().optional(),
  thread_id: z.string().optional(),
});

const StreamModeList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]))
  .pipe(
    z.array(
      z.enum(SUPPORTED_STREAM_MODES as [string, ...string[]], {
        error: (issue) => `unsupported stream mode ${JSON.stringify(issue.input)}; supported: ${SUPPORTED_STREAM_MODES.join(", ")}`,
      }),
    ),
  );

const NodeList = z.union([z.literal("*"), z.array(z.string())]);

/** POST /threads/{tid}/runs[/stream|/wait] (the LangGraph server's RunCreate). */
export const RunCreateBody = z.object({
  assistant_id: z.string().min(1),
  input: z.unknown().optional(),
  command: z
    .object({ resume: z.unknown().optional(), update: z.unknown().optional(), goto: z.unknown().optional() })
    .nullable()
    .optional(),
  config: z
    .object({
      configurable: JsonObject.optional(),
      tags: z.array(z.string()).optional(),
      recursion_limit: z.number().int().positive().max(10_000).optional(),
    })
    .loose()
    .optional(),
  context: JsonObject.nullable().optional(),
  metadata: JsonObject.nullable().optional(),
  checkpoint_id: z.string().min(1).optional(),
  checkpoint: CheckpointRef.nullable().optional(),
  stream_mode: StreamModeList.optional(),
  stream_subgraphs: z.boolean().optional(),
  stream_resumable: z.boolean().optional(),
  on_disconnect: z.enum(["cancel", "continue"]).optional(),
  multitask_strategy: z.enum(MULTITASK_STRATEGIES).optional(),
  if_not_exists: z.enum(["create", "reject"]).optional(),
  interrupt_before: NodeList.nullable().optional(),
  interrupt_after: NodeList.nullable().optional(),
  on_completion: z.enum(["delete", "keep"]).optional(),
  after_seconds: z.number().nonnegative().optional(),
  durability: z.enum(["sync", "async", "exit"]).optional(),
  checkpoint_during: z.boolean().optional(),
  feedback_keys: z.array(z.string()).optional(),
  webhook: z.string().optional(),
});
export type RunCreateBody = z.infer<typeof RunCreateBody>;

/** PATCH /threads/{tid} */
export const ThreadPatchBody = z.object({ metadata: JsonObject });

export const THREAD_SORT_COLUMNS = ["thread_id", "status", "created_at", "updated_at"] as const;

/** POST /threads/search */
export const ThreadSearchBody = z.object({
  metadata: JsonObject.nullable().optional(),
  ids: z.array(Id).max(1000).nullable().optional(),
  status: z.enum(THREAD_STATUSES).nullable().optional(),
  values: z.null({ error: "filtering threads by values is not supported by this server" }).optional(),
  limit: z.number().int().positive().max(1000).default(10),
  offset: z.number().int().nonnegative().default(0),
  sort_by: z.enum(THREAD_SORT_COLUMNS).default("created_at"),
  sort_order: z.enum(["asc", "desc"]).default("desc"),
});
export type ThreadSearchBody = z.infer<typeof ThreadSearchBody>;

/** POST /threads/count */
export const ThreadCountBody = ThreadSearchBody.pick({ metadata: true, status: true, values: true });

/** POST /threads/{tid}/state */
export const StateUpdateBody = z.object({
  values: z.unknown(),
  as_node: z.string().min(1).optional(),
  checkpoint_id: z.string().min(1).optional(),
  checkpoint: CheckpointRef.nullable().optional(),
});
export type StateUpdateBody = z.infer<typeof StateUpdateBody>;

/** POST /threads/{tid}/state/checkpoint */
export const StateAtCheckpointBody = z.object({ checkpoint: CheckpointRef, subgraphs: z.boolean().optional() });

/** POST /threads/{tid}/history */
export const HistoryBody = z.object({
  limit: z.number().int().positive().max(1000).default(10),
  before: z.union([z.string(), z.object({ configurable: z.object({ checkpoint_id: z.string() }).loose() }).loose()]).nullable().optional(),
  metadata: JsonObject.nullable().optional(),
  checkpoint: z.object({ checkpoint_ns: z.string().optional() }).loose().nullable().optional(),
});
export type HistoryBody = z.infer<typeof HistoryBody>;

/** POST /runs/cancel */
export const CancelManyBody = z
  .object({
    thread_id: Id.optional(),
    run_ids: z.array(Id).max(1000).optional(),
    status: z.enum(["pending", "running", "all"]).optional(),
  })
  .refine((b) => !(b.status && (b.thread_id || b.run_ids)), { message: "status cannot be combined with thread_id or run_ids", path: ["status"] })
  .refine((b) => b.status || b.thread_id || b.run_ids, { message: "give thread_id, run_ids or status", path: ["thread_id"] });
export type CancelManyBody = z.infer<typeof CancelManyBody>;

/** GET /threads/{tid}/runs */
export const ListRunsQuery = z.object({
  limit: z.coerce.number().int().positive().max(1000).default(10),
  offset: z.coerce.number().int().nonnegative().default(0),
  status: z.enum(RUN_STATUSES).optional(),
});

/** Query flags arrive as "1"/"0"/"true"/"false"; `z.coerce.boolean()` would turn "0" into true. */
export const QueryBool = z
  .enum(["1", "0", "true", "false", "yes", "no"])
  .transform((v) => v === "1" || v === "true" || v === "yes");

/** GET /threads/{tid}/runs/{rid}/stream */
export const JoinStreamQuery = z.object({
  cancel_on_disconnect: QueryBool.optional(),
  stream_mode: z.string().optional(),
});

/** POST /runs/cancel?action= */
export const CancelManyQuery = z.object({ action: z.enum(CANCEL_ACTIONS).default("interrupt") });

/** POST /threads/{tid}/runs/{rid}/cancel */
export const CancelQuery = z.object({
  wait: QueryBool.default(false),
  action: z.enum(CANCEL_ACTIONS).default("interrupt"),
});

export const ThreadStatusSchema = z.enum(THREAD_STATUSES);
