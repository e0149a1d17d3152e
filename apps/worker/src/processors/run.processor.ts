import { UnrecoverableError } from "bullmq";
import type { RunRecord } from "@runline/core";
import type { RunsRepo } from "@runline/db";
import { executeRun, PartialCollector, type GraphRegistry, type RunFinisher, type RunOutcome } from "@runline/engine";
import { CHAT_MODEL_CONTEXT_KEY, type ChatModelFactory } from "@runline/graphs";
import type { JournalWriter } from "@runline/journal";
import { RunJobPayload, type RunJob } from "@runline/queue";

export interface RunProcessorDeps {
  runs: RunsRepo;
  finisher: RunFinisher;
  journal: JournalWriter;
  registry: GraphRegistry;
  chatModels: ChatModelFactory;
  /** Longest a run may take (0 = no limit). */
  runTimeoutMs: number;
}

/** What the job returns to BullMQ (kept small: it is stored in Redis). */
export interface RunJobResult {
  runId: string;
  status: string;
}

/** Builds the BullMQ processor that executes one run from `running` to a terminal status. */
export function createRunProcessor(deps: RunProcessorDeps) {
  // Three declared parameters on purpose: BullMQ passes the abort signal only when processor.length >= 3.
  return async function processRun(job: RunJob, _token: string | undefined, signal?: AbortSignal): Promise<RunJobResult> {
    const parsed = RunJobPayload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid run job payload: ${parsed.error.message}`);
    const run = await claimRun(deps.runs, parsed.data.runId);
    if (!run) return { runId: parsed.data.runId, status: "skipped" };
    const outcome = await executeClaimedRun(deps, run, signal);
    await deps.finisher.finish(run.run_id, run.thread_id, outcome);
    return { runId: run.run_id, status: outcome.status };
  };
}

/** pending → running; a run already running belongs to a dead worker whose job came back (stalled). */
async function claimRun(runs: RunsRepo, runId: string): Promise<RunRecord | null> {
  const started = await runs.markRunning(runId);
  if (started) return started;
  return runs.markRetried(runId);
}

async function executeClaimedRun(deps: RunProcessorDeps, run: RunRecord, jobSignal?: AbortSignal): Promise<RunOutcome> {
  const controller = new AbortController();
  const abort = () => controller.abort(jobSignal?.reason);
  jobSignal?.addEventListener("abort", abort, { once: true });
  const timer = deps.runTimeoutMs > 0 ? setTimeout(() => controller.abort(new RunTimeoutError(deps.runTimeoutMs)), deps.runTimeoutMs) : null;
  const sink = { append: (event: string, data: unknown) => deps.journal.append(run.run_id, event, data) };
  try {
    void sink.append("metadata", { run_id: run.run_id, thread_id: run.thread_id, attempt: run.attempt });
    const graph = await deps.registry.get(run.graph_id);
    const result = await executeRun({
      graph,
      run,
      sink,
      signal: controller.signal,
      collector: new PartialCollector(),
      context: { [CHAT_MODEL_CONTEXT_KEY]: deps.chatModels },
    });
    await deps.journal.flush(run.run_id);
    return { status: "success", hitlInterrupt: result.interrupted };
  } catch (err) {
    if (controller.signal.aborted && controller.signal.reason instanceof RunTimeoutError) {
      return { status: "timeout", error: { error: "TimeoutError", message: controller.signal.reason.message } };
    }
    const error = { error: (err as Error)?.name ?? "Error", message: (err as Error)?.message ?? String(err) };
    await deps.journal.append(run.run_id, "error", error).catch(() => undefined);
    return { status: "error", error };
  } finally {
    if (timer) clearTimeout(timer);
    jobSignal?.removeEventListener("abort", abort);
  }
}

/** The run limit expired. */
export class RunTimeoutError extends Error {
  constructor(limitMs: number) {
    super(`run exceeded its ${limitMs} ms limit`);
    this.name = "RunTimeoutError";
  }
}
