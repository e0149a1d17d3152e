import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import type { GraphRegistry, RunLifecycle } from "@runline/engine";
import type { ChatModelFactory } from "@runline/graphs";
import type { JournalEntry, JournalWriter } from "@runline/journal";
import type { RunTelemetry } from "@runline/observability";
import type { RunControl } from "@runline/queue";

/** Everything the run processor needs, built once by the composition root. */
export interface RunProcessorDeps {
  /** Every status transition of a run (claim, finish, announce). */
  lifecycle: RunLifecycle;
  journal: JournalWriter;
  /** Reads a run's journal from the start (a takeover rebuilds the previous attempt's tokens from it). */
  readJournal(runId: string): AsyncIterable<JournalEntry>;
  registry: GraphRegistry;
  /** The checkpointer, fenced: writes made inside an attempt are refused once the attempt lost the run. */
  checkpointer: BaseCheckpointSaver;
  chatModels: ChatModelFactory;
  /** Cancels and supersession of the runs this process executes (pub/sub plus the Postgres poll). */
  control: RunControl;
  /** BullMQ's lock duration: each attempt renews its own lock every half of it. */
  lockDurationMs: number;
  /** Longest a run may take (0 = no limit). */
  runTimeoutMs: number;
  /** Most bytes of events one run may write to its journal; past it the run ends `error`, partial kept. @defaultValue 0 (no limit) */
  runMaxOutputBytes?: number;
  /** Attempts a run gets when its workers keep dying; past them it ends `error` with its partial kept. */
  maxAttempts: number;
  /** Longest to wait for LangGraph to report its writes settled after an abort. @defaultValue 5000 */
  settleTimeoutMs?: number;
  /** Run logs and metrics (started, tokens, time to first token, finished). @defaultValue records nothing */
  telemetry?: RunTelemetry;
}
