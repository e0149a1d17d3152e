import { z } from "zod";
import { INPUT_LIMITS as L } from "./limits";
import { MULTITASK_STRATEGIES } from "./status";

// LangGraph protocol v2 (what `@langchain/react` 1.x and `client.threads.stream` speak). The run fields a
// `run.start` carries are checked again by RunCreateBody (schemas.ts): one validation boundary for both APIs.

/** `POST /threads/{tid}/commands`: the envelope `{id, method, params}`. */
export const CommandEnvelope = z.object({
  id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  method: z.string().min(1).max(64),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type CommandEnvelope = z.infer<typeof CommandEnvelope>;

const Namespace = z.array(z.string().max(L.namespaceLength)).max(32);

/**
 * `run.start` params: the fields the SDK sends (it adds `multitaskStrategy` and folds `forkFrom` into
 * `config.configurable.checkpoint_id`). Anything else is refused by name, never silently dropped.
 */
export const RunStartParams = z.strictObject({
  assistant_id: z.string().min(1).max(L.idLength),
  input: z.unknown().optional(),
  config: z.unknown().optional(),
  metadata: z.unknown().optional(),
  context: z.unknown().optional(),
  multitask_strategy: z.enum(MULTITASK_STRATEGIES).optional(),
  multitaskStrategy: z.enum(MULTITASK_STRATEGIES).optional(),
  interrupt_before: z.unknown().optional(),
  interrupt_after: z.unknown().optional(),
  // Accepted and ignored: Runline traces nothing to LangSmith.
  langsmith_tracer: z.unknown().optional(),
});
export type RunStartParams = z.infer<typeof RunStartParams>;

const RespondEntry = z.strictObject({
  namespace: Namespace.optional(),
  interrupt_id: z.string().min(1).max(L.idLength),
  response: z.unknown(),
});

const RespondCommon = {
  update: z.unknown().optional(),
  goto: z.unknown().optional(),
  config: z.unknown().optional(),
  metadata: z.unknown().optional(),
  strict_resume: z.boolean().optional(),
};

/** `input.respond`: one answer (`interrupt_id`, `response`) or several (`responses[]`), keyed by interrupt id. */
export const InputRespondParams = z.union(
  [
    z.strictObject({ ...RespondCommon, responses: z.array(RespondEntry).min(1).max(L.listEntries) }),
    z.strictObject({ ...RespondCommon, namespace: Namespace.optional(), interrupt_id: z.string().min(1).max(L.idLength), response: z.unknown() }),
  ],
  { error: "must hold interrupt_id and response, or responses: [{interrupt_id, response}]" },
);
export type InputRespondParams = z.infer<typeof InputRespondParams>;

/** The channels a v2 subscription may name (`custom:<name>` selects one custom channel). */
export const V2_CHANNELS = ["values", "updates", "messages", "tools", "lifecycle", "input", "checkpoints", "tasks", "custom"] as const;

const Channel = z
  .string()
  .max(L.nameLength)
  .refine((c) => (V2_CHANNELS as readonly string[]).includes(c) || /^custom:.+/.test(c), {
    error: (issue) => `unknown channel ${JSON.stringify(String(issue.input).slice(0, 40))}; known: ${V2_CHANNELS.join(", ")}, custom:<name>`,
  });

/** `POST /threads/{tid}/stream/events`: the subscription filter, strict (a typo is a 422, not a silent "all"). */
export const StreamEventsBody = z.strictObject({
  channels: z.array(z.unknown()).min(1).max(32).pipe(z.array(Channel)),
  namespaces: z.array(Namespace).max(L.listEntries).optional(),
  depth: z.number().int().nonnegative().max(64).optional(),
  since: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
});
export type StreamEventsBody = z.infer<typeof StreamEventsBody>;
