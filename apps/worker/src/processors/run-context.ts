import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import type { RunsRepo } from "@runline/db";
import type { GraphRegistry, RunFinisher } from "@runline/engine";
import type { ChatModelFactory } from "@runline/graphs";
import type { JournalEntry, JournalWriter } from "@runline/journal";
import type { RunTelemetry } from "@runline/observability";
import type { CancelListener } from "@runline/queue";

/** Everything the run processor needs, built once by the composition root. */
export interface RunProcessorDeps {
  runs: RunsRepo;
  finisher: RunFinisher;
  journal: JournalWriter;
  /** Reads a run's journal from the start (a takeover rebuilds the dead attempt's tokens from it). */
  readJournal(runId: string): AsyncIterable<JournalEntry>;
  registry: GraphRegistry;
  checkpointer: BaseCheckpointSaver;
  chatModels: ChatModelFactory;
  cancels: CancelListener;
  /** Deletes a thread with its runs and checkpoints (a stateless run's thread, once the run ended). */
  deleteThread(threadId: string): Promise<void>;
  /** Longest a run may take (0 = no limit). */
  runTimeoutMs: number;
  /** Longest to wait for LangGraph to report its writes settled after an abort. @defaultValue 5000 */
  settleTimeoutMs?: number;
  /** Run logs and metrics (started, tokens, time to first token, finished). @defaultValue records nothing */
  telemetry?: RunTelemetry;
}
