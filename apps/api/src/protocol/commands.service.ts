import { z } from "zod";
import {
  AppError,
  NotFoundError,
  CommandEnvelope,
  InputRespondParams,
  RunCreateBody,
  RunStartParams,
  type RunRecord,
} from "@runline/core";
import type { RunsService } from "../services/runs.service";
import type { ThreadsService } from "../services/threads.service";
import { appliedThroughSeq } from "./v2-event";

/** The protocol's error codes Runline answers with (`@langchain/protocol` ErrorCode). */
export type ProtocolErrorCode = "invalid_argument" | "unknown_command" | "unknown_error" | "no_such_run" | "no_such_interrupt" | "no_such_checkpoint" | "permission_denied" | "not_supported";

/** A command's answer: always HTTP 200, success or error in the body (as the official server does). */
export type CommandReply =
  | { type: "success"; id: number; result: Record<string, unknown>; meta?: { applied_through_seq: number } }
  | { type: "error"; id: number | null; error: ProtocolErrorCode; message: string };

/**
 * What every v2 run asks the worker to journal: all the classic modes the translator reads (`checkpoints` so
 * the client can pair a `values` snapshot with its checkpoint, which `forkFrom` needs).
 */
const V2_STREAM_MODES = ["values", "messages-tuple", "updates", "custom", "tasks", "checkpoints"];

/**
 * `POST /threads/{tid}/commands`: `run.start` and `input.respond`, both through the classic run create path
 * (`RunsService.create`: same tables, validation, dispatcher and queue); any other method is `unknown_command`.
 * Never throws: every failure becomes an error reply that names what was wrong.
 */
export class CommandsService {
  constructor(private readonly runs: RunsService, private readonly threads: ThreadsService) {}

  /** @param onUnexpected told about a failure that is not one of Runline's typed errors (to log it). */
  async handle(tenantId: string, threadId: string, body: unknown, onUnexpected?: (err: unknown) => void): Promise<CommandReply> {
    const envelope = CommandEnvelope.safeParse(body);
    if (!envelope.success) return invalid(idOf(body), envelope.error, "");
    const { id, method, params = {} } = envelope.data;
    try {
      switch (method) {
        case "run.start":
          return await this.runStart(id, tenantId, threadId, params);
        case "input.respond":
          return await this.inputRespond(id, tenantId, threadId, params);
        default:
          return { type: "error", id, error: "unknown_command", message: `Unknown command ${JSON.stringify(method.slice(0, 64))}; this server handles run.start and input.respond` };
      }
    } catch (err) {
      if (!(err instanceof AppError)) onUnexpected?.(err);
      return errorReply(id, err);
    }
  }

  private async runStart(id: number, tenantId: string, threadId: string, raw: Record<string, unknown>): Promise<CommandReply> {
    const parsed = RunStartParams.safeParse(raw);
    if (!parsed.success) return invalid(id, parsed.error, "params.");
    const { multitaskStrategy, multitask_strategy, langsmith_tracer: _ignored, input, ...rest } = parsed.data;
    // An input sent to a thread paused at an interrupt answers it (what the official server does), unless it
    // forks from a checkpoint: an edited message starts a branch, it does not answer the pause.
    const forks = typeof (rest.config as { configurable?: { checkpoint_id?: unknown } } | undefined)?.configurable?.checkpoint_id === "string";
    const resume = !forks && input !== undefined && input !== null && (await this.pendingInterrupts(tenantId, threadId)).length > 0;
    const body = toRunCreate(id, {
      ...rest,
      ...(resume ? { command: { resume: input } } : { input: input ?? null }),
      multitask_strategy: multitask_strategy ?? multitaskStrategy ?? "enqueue",
    });
    if ("type" in body) return body;
    const run = await this.runs.create(tenantId, threadId, body);
    return started(id, run);
  }

  private async inputRespond(id: number, tenantId: string, threadId: string, raw: Record<string, unknown>): Promise<CommandReply> {
    const parsed = InputRespondParams.safeParse(raw);
    if (!parsed.success) return invalid(id, parsed.error, "params.");
    const p = parsed.data;
    const answers = "responses" in p ? p.responses : [{ interrupt_id: p.interrupt_id, response: p.response }];
    const pending = new Set(await this.pendingInterrupts(tenantId, threadId));
    const unknown = answers.find((a) => !pending.has(a.interrupt_id));
    if (unknown) {
      return { type: "error", id, error: "no_such_interrupt", message: `Thread ${threadId} is not waiting on interrupt ${JSON.stringify(unknown.interrupt_id.slice(0, 80))}` };
    }
    // LangGraph resumes each interrupt by its id when `resume` is a map of interrupt ids.
    const resume = Object.fromEntries(answers.map((a) => [a.interrupt_id, a.response]));
    const command = { resume, ...(p.update !== undefined ? { update: p.update } : {}), ...(p.goto !== undefined ? { goto: p.goto } : {}) };
    const body = toRunCreate(id, { assistant_id: await this.assistantOf(tenantId, threadId), command, config: p.config, metadata: p.metadata, multitask_strategy: "enqueue" });
    if ("type" in body) return body;
    const run = await this.runs.create(tenantId, threadId, body);
    return started(id, run, {});
  }

  /** The ids of the interrupts the thread waits on (empty for a missing thread or one that waits on nothing). */
  private async pendingInterrupts(tenantId: string, threadId: string): Promise<string[]> {
    // A missing thread is "no interrupts"; a database error must not turn an answer into a fresh run.
    const thread = await this.threads.get(tenantId, threadId).catch((err) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
    // Only an `interrupted` thread can hold one: the common run.start pays no state read.
    if (thread?.status !== "interrupted") return [];
    const state = await this.threads.getState(tenantId, threadId);
    return (state.interrupts as Array<{ id?: unknown }>).map((i) => i?.id).filter((id): id is string => typeof id === "string");
  }

  /** The graph a resume runs: the one the thread last ran (LangGraph stamps it on the thread). */
  private async assistantOf(tenantId: string, threadId: string): Promise<string> {
    const thread = await this.threads.get(tenantId, threadId);
    const assistant = thread.metadata.assistant_id ?? thread.metadata.graph_id;
    if (typeof assistant !== "string") throw new AppError("NOT_FOUND", `Thread ${threadId} has no run to resume`, { status: 404 });
    return assistant;
  }
}

/** The classic run body of a v2 command, validated by the classic schema (so both APIs refuse the same input). */
function toRunCreate(id: number, fields: Record<string, unknown>): RunCreateBody | CommandReply {
  const parsed = RunCreateBody.safeParse({
    ...fields,
    // The client made the thread id up: the first run creates it.
    if_not_exists: "create",
    stream_mode: V2_STREAM_MODES,
    stream_subgraphs: true,
    on_disconnect: "continue",
  });
  return parsed.success ? parsed.data : invalid(id, parsed.error, "params.");
}

function started(id: number, run: RunRecord, result: Record<string, unknown> = { run_id: run.run_id }): CommandReply {
  return { type: "success", id, result, meta: { applied_through_seq: appliedThroughSeq(run.thread_seq) } };
}

function invalid(id: number | null, error: z.ZodError, prefix: string): CommandReply {
  const issue = error.issues[0];
  const path = issue?.path.length ? `${prefix}${issue.path.join(".")}` : prefix.replace(/\.$/, "") || "command";
  const extra = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : "";
  return { type: "error", id, error: "invalid_argument", message: `${path}: ${(issue?.message ?? "invalid").slice(0, 200)}${extra}` };
}

/** Runline's typed errors mapped onto the protocol's codes; anything unexpected is `unknown_error`, still 200. */
function errorReply(id: number, err: unknown): CommandReply {
  if (err instanceof AppError) {
    const code: ProtocolErrorCode =
      err.code === "CHECKPOINT_NOT_FOUND" ? "no_such_checkpoint"
      : err.code === "RUN_NOT_FOUND" ? "no_such_run"
      : err.code === "UNAUTHORIZED" ? "permission_denied"
      : err.code === "UNSUPPORTED" ? "not_supported"
      : err.status >= 500 ? "unknown_error" : "invalid_argument";
    return { type: "error", id, error: code, message: err.message };
  }
  return { type: "error", id, error: "unknown_error", message: `the command failed (${(err as Error)?.name ?? "Error"}); see the server log` };
}

function idOf(body: unknown): number | null {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : null;
}
