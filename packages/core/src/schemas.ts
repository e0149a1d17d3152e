import { z } from "zod";
import { INPUT_LIMITS as L, truncate } from "./limits";
import { CANCEL_ACTIONS, MULTITASK_STRATEGIES, RUN_STATUSES, THREAD_STATUSES } from "./status";
import { SUPPORTED_STREAM_MODES } from "./stream-modes";

// Every request schema is bounded (see INPUT_LIMITS): lengths first, then element types, so a 100k-entry list
// is refused with one issue instead of 100k. Strings with NUL or lone surrogates, and deep nesting, never get
// here: the HTTP layer refuses them while parsing (apps/api/src/http/json-guard.ts).

const ID_CHARS = /^[A-Za-z0-9_.-]+$/;
const Id = z.string().min(1).max(L.idLength).regex(ID_CHARS, "may only contain letters, digits, '_', '.' and '-'");
/** A LangGraph checkpoint id (uuid6 from the stock savers); `:` too, for savers that namespace theirs. */
const CheckpointId = z.string().min(1).max(L.idLength).regex(/^[A-Za-z0-9_.:-]+$/, "is not a checkpoint id");
const Name = z.string().min(1).max(L.nameLength);
const Namespace = z.string().max(L.namespaceLength);
/** An assistant id: a uuid or a graph name. */
const AssistantId = z.string().min(1).max(L.idLength);

/** A list of at most `max` entries, counted before its entries are checked. */
function boundedList<T extends z.ZodType>(item: T, max: number) {
  return z.array(z.unknown()).max(max, `at most ${max} entries`).pipe(z.array(item));
}

/** A JSON object of at most `maxKeys` keys (counted first), each at most `nameLength` long. */
function boundedObject(maxKeys: number = L.objectKeys) {
  return z
    .record(z.string(), z.unknown())
    .refine((o) => Object.keys(o).length <= maxKeys, `at most ${maxKeys} keys`)
    .pipe(z.record(z.string().max(L.nameLength, `keys are at most ${L.nameLength} characters`), z.unknown()));
}

const JsonObject = boundedObject();

/** Path parameters. */
export const ThreadParams = z.object({ threadId: Id });
export const RunParams = z.object({ threadId: Id, runId: Id });
export const CheckpointParams = z.object({ threadId: Id, checkpointId: CheckpointId });
export const AssistantParams = z.object({ assistantId: AssistantId });
/** `/admin/api/runs/:runId` and `/admin/api/threads/:threadId/…` */
export const AdminRunParams = z.object({ runId: Id });
export const AdminThreadParams = z.object({ threadId: Id });
/** `/admin/api/threads/:threadId/tree?tenant_id=`: thread ids are per tenant (a tenant id never holds ':' or spaces). */
export const AdminThreadQuery = z.object({ tenant_id: z.string().min(1).max(L.idLength).regex(/^[^:\s]+$/, "is not a tenant id").optional() });

/** POST /threads */
export const ThreadCreateBody = z.object({
  thread_id: Id.optional(),
  metadata: JsonObject.optional(),
  if_exists: z.enum(["raise", "do_nothing"]).default("raise"),
});
export type ThreadCreateBody = z.infer<typeof ThreadCreateBody>;

const CheckpointRef = z.object({
  checkpoint_id: CheckpointId,
  checkpoint_ns: Namespace.optional(),
  checkpoint_map: boundedObject().nullable().optional(),
  // useStream deletes it, other clients send the thread's own id; either way the path's thread wins.
  thread_id: z.string().max(L.idLength).optional(),
});

const SUPPORTED = SUPPORTED_STREAM_MODES.join(", ");

/** `stream_mode`: one mode or a list of at most 16, each a mode this server streams; duplicates collapse. */
const StreamModeList = z
  .union([z.string(), z.array(z.unknown())], { error: `must be a stream mode or a list of them (${SUPPORTED})` })
  .transform((value) => (Array.isArray(value) ? value : [value]))
  .pipe(boundedList(
    z.enum(SUPPORTED_STREAM_MODES as [string, ...string[]], {
      error: (issue) => `unsupported stream mode ${truncate(JSON.stringify(issue.input) ?? "", 40)}; supported: ${SUPPORTED}`,
    }),
    L.streamModes,
  ))
  .transform((modes) => [...new Set(modes)]);

const NodeList = z.union([z.literal("*"), boundedList(Name, L.listEntries)], { error: `must be "*" or a list of node names` });

const RESERVED_KEY = /^__/;
/**
 * `config.configurable`: free-form for the graph, except keys LangGraph reserves for itself (`__pregel_*` and
 * any `__` prefix would reach Pregel's internals), and a fork point, which must look like a checkpoint id.
 */
const Configurable = boundedObject()
  .superRefine((o, ctx) => {
    for (const key of Object.keys(o)) {
      if (RESERVED_KEY.test(key)) ctx.addIssue({ code: "custom", path: [key], message: "keys starting with __ are reserved for LangGraph" });
    }
  })
  .pipe(z.object({ checkpoint_id: CheckpointId.optional(), checkpoint_ns: Namespace.optional() }).loose());

/** The `config` keys LangGraph documents for a run; anything else (`debug`, `callbacks`…) is refused. */
export const RUN_CONFIG_KEYS = ["configurable", "tags", "recursion_limit", "metadata", "run_name", "max_concurrency"] as const;

const RunConfig = z.strictObject(
  {
    configurable: Configurable.optional(),
    tags: boundedList(Name, L.listEntries).optional(),
    recursion_limit: z.number().int().positive().max(L.recursionLimit).optional(),
    metadata: JsonObject.optional(),
    run_name: Name.optional(),
    max_concurrency: z.number().int().positive().max(L.maxConcurrency).optional(),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `config may only hold ${RUN_CONFIG_KEYS.join(", ")}; got ${truncate(issue.keys.map((k) => JSON.stringify(k)).join(", "), 80)}` +
          (issue.keys.includes("debug") ? " (debug would make LangGraph print the whole state)" : "")
        : undefined,
  },
);

/** POST /threads/{tid}/runs[/stream|/wait] (the LangGraph server's RunCreate). */
export const RunCreateBody = z.object({
  assistant_id: AssistantId,
  input: z.unknown().optional(),
  command: z
    .object({ resume: z.unknown().optional(), update: z.unknown().optional(), goto: z.unknown().optional() })
    .nullable()
    .optional(),
  config: RunConfig.nullable().optional(),
  context: JsonObject.nullable().optional(),
  metadata: JsonObject.nullable().optional(),
  checkpoint_id: CheckpointId.optional(),
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
  after_seconds: z.number().nonnegative().max(L.afterSeconds, `at most ${L.afterSeconds} (one day)`).optional(),
  durability: z.enum(["sync", "async", "exit"]).optional(),
  checkpoint_during: z.boolean().optional(),
  feedback_keys: boundedList(Name, L.listEntries).optional(),
  webhook: z.string().max(2048).optional(),
});
export type RunCreateBody = z.infer<typeof RunCreateBody>;

/** PATCH /threads/{tid} */
export const ThreadPatchBody = z.object({ metadata: JsonObject });

export const THREAD_SORT_COLUMNS = ["thread_id", "status", "created_at", "updated_at"] as const;

const Limit = z.number().int().positive().max(L.pageSize);
const Offset = z.number().int().nonnegative().max(L.offset);

/** POST /threads/search */
export const ThreadSearchBody = z.object({
  metadata: JsonObject.nullable().optional(),
  ids: boundedList(Id, L.idList).nullable().optional(),
  status: z.enum(THREAD_STATUSES).nullable().optional(),
  values: z.null({ error: "filtering threads by values is not supported by this server" }).optional(),
  limit: Limit.default(10),
  offset: Offset.default(0),
  sort_by: z.enum(THREAD_SORT_COLUMNS).default("created_at"),
  sort_order: z.enum(["asc", "desc"]).default("desc"),
});
export type ThreadSearchBody = z.infer<typeof ThreadSearchBody>;

/** POST /threads/count */
export const ThreadCountBody = ThreadSearchBody.pick({ metadata: true, status: true, values: true });

/** POST /assistants/search */
export const AssistantSearchBody = z.object({
  metadata: JsonObject.nullable().optional(),
  graph_id: Name.nullable().optional(),
  name: Name.nullable().optional(),
  limit: Limit.default(10),
  offset: Offset.default(0),
  sort_by: z.enum(["assistant_id", "graph_id", "name", "created_at", "updated_at"]).nullable().optional(),
  sort_order: z.enum(["asc", "desc"]).nullable().optional(),
  select: boundedList(Name, L.listEntries).nullable().optional(),
});
export type AssistantSearchBody = z.infer<typeof AssistantSearchBody>;

/** POST /threads/{tid}/state. `values` is a state update: an object of channel values (or null, to only advance). */
export const StateUpdateBody = z.object({
  values: z.union([JsonObject, z.array(z.unknown()), z.null()], { error: "must be an object of state values, a list, or null" }).optional(),
  as_node: Name.optional(),
  checkpoint_id: CheckpointId.optional(),
  checkpoint: CheckpointRef.nullable().optional(),
});
export type StateUpdateBody = z.infer<typeof StateUpdateBody>;

/** POST /threads/{tid}/state/checkpoint */
export const StateAtCheckpointBody = z.object({ checkpoint: CheckpointRef, subgraphs: z.boolean().optional() });

/** POST /threads/{tid}/history */
export const HistoryBody = z.object({
  limit: Limit.default(10),
  before: z
    .union([CheckpointId, z.object({ configurable: z.object({ checkpoint_id: CheckpointId }).loose() }).loose()], {
      error: "must be a checkpoint id or {configurable: {checkpoint_id}}",
    })
    .nullable()
    .optional(),
  metadata: JsonObject.nullable().optional(),
  checkpoint: z.object({ checkpoint_ns: Namespace.optional() }).loose().nullable().optional(),
});
export type HistoryBody = z.infer<typeof HistoryBody>;

/** GET /threads/{tid}/history */
export const HistoryQuery = z.object({
  limit: z.coerce.number().pipe(Limit).default(10),
  before: CheckpointId.optional(),
});

/** POST /runs/cancel */
export const CancelManyBody = z
  .object({
    thread_id: Id.optional(),
    run_ids: boundedList(Id, L.idList).optional(),
    status: z.enum(["pending", "running", "all"]).optional(),
  })
  .refine((b) => !(b.status && (b.thread_id || b.run_ids)), { message: "status cannot be combined with thread_id or run_ids", path: ["status"] })
  .refine((b) => b.status || b.thread_id || b.run_ids, { message: "give thread_id, run_ids or status", path: ["thread_id"] });
export type CancelManyBody = z.infer<typeof CancelManyBody>;

/** GET /threads/{tid}/runs */

/** Query flags arrive as "1"/"0"/"true"/"false"; `z.coerce.boolean()` would turn "0" into true. */
export const QueryBool = z
  .enum(["1", "0", "true", "false", "yes", "no"])
  .transform((v) => v === "1" || v === "true" || v === "yes");

export const ListRunsQuery = z.object({
  limit: z.coerce.number().pipe(Limit).default(10),
  offset: z.coerce.number().pipe(Offset).default(0),
  status: z.enum(RUN_STATUSES).optional(),
  /** A list leaves out each run's `kwargs.input` and `kwargs.command` (they can be large) unless this is set. */
  include_input: QueryBool.default(false),
});

/**
 * `stream_mode` of a join: what the SDK sends (the parameter repeated, one mode each), a JSON array string, or
 * comma-separated names. Malformed JSON is a 422, never a thrown `SyntaxError`.
 */
const StreamModeParam = z
  .union([z.string().max(1024), boundedList(z.string().max(64), L.streamModes)], { error: "must be stream mode names" })
  .transform((value, ctx) => {
    if (Array.isArray(value)) return value;
    if (!value.startsWith("[")) return value.split(",");
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "is not a JSON array of stream modes" });
      return z.NEVER;
    }
  })
  .pipe(StreamModeList);

/** GET /threads/{tid}/runs/{rid}/stream */
export const JoinStreamQuery = z.object({
  cancel_on_disconnect: QueryBool.optional(),
  stream_mode: StreamModeParam.optional(),
});

/** POST /runs/cancel?action= */
export const CancelManyQuery = z.object({ action: z.enum(CANCEL_ACTIONS).default("interrupt") });

/** POST /threads/{tid}/runs/{rid}/cancel (and the dashboard's cancel) */
export const CancelQuery = z.object({
  wait: QueryBool.default(false),
  action: z.enum(CANCEL_ACTIONS).default("interrupt"),
});

/** `/admin/api/overview` and `/admin/api/runs/recent`: a finished status to show, and how many. */
export const DashboardListQuery = z.object({
  status: z.enum(RUN_STATUSES.filter((s) => s !== "pending" && s !== "running") as [string, ...string[]]).optional(),
  limit: z.coerce.number().pipe(z.number().int().positive().max(500)).default(50),
});

export const ThreadStatusSchema = z.enum(THREAD_STATUSES);
