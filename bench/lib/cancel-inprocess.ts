import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import type { RunRecord } from "@runline/core";
import { PartialCollector, RunSettledHandler, RunStoppedError, savePartialOutput, type RunnableGraph } from "@runline/engine";
import type { StoryGraph } from "./in-process";
import { storyInput, type StoryPace } from "./workload";

/** Abort + save with LangGraph directly: what a cancel costs without Runline around it. */
export interface InProcessCancelSample {
  /** `controller.abort()` → the partial committed (`savePartialOutput` resolved). */
  latencyMs: number;
  readTokens: number;
  /** `messages` items the consumer received, to the throw. */
  tokensReceived: number;
  /** Items received after `abort()` was called (the loop's body runs on until the stream throws). */
  tokensAfterAbort: number;
  partialTokenCount: number;
  /** Wall clock (ms since epoch) at abort(). */
  atWallMs: number;
  phases: {
    /** abort() → `graph.stream` threw in the consumer. */
    abortToThrowMs: number;
    /** throw → RunSettledHandler saw the root chain end (LangGraph's writes settled). */
    throwToSettledMs: number;
    /** settled → `savePartialOutput` committed (getState + updateState). */
    settledToSavedMs: number;
  };
}

/**
 * One in-process run of the story graph with the Postgres checkpointer, cancelled after `readTokens` tokens the
 * way Runline's worker does it (`signal` + `RunSettledHandler` + `PartialCollector` + `savePartialOutput`).
 */
export async function cancelInProcessRun(
  graph: StoryGraph,
  checkpointer: BaseCheckpointSaver,
  pace: StoryPace,
  readTokens: number,
): Promise<InProcessCancelSample> {
  return runCancellable(graph, checkpointer, pace, readTokens, (abort) => abort());
}

/** An in-process run that has delivered `readTokens` tokens and streams on until {@link ReadyInProcessCancel.cancel}. */
export interface ReadyInProcessCancel {
  cancel(): Promise<InProcessCancelSample>;
}

/** Starts a run and resolves once it delivered `readTokens` tokens; the caller picks the moment to cancel. */
export function prepareInProcessCancel(
  graph: StoryGraph,
  checkpointer: BaseCheckpointSaver,
  pace: StoryPace,
  readTokens: number,
): Promise<ReadyInProcessCancel> {
  return new Promise((resolveReady, rejectReady) => {
    const done = runCancellable(graph, checkpointer, pace, readTokens, (abort) => resolveReady({ cancel: () => (abort(), done) }));
    done.catch(rejectReady);
  });
}

/** The run itself: `onReached(abort)` is called once `readTokens` tokens arrived; the sample is taken from `abort()`. */
async function runCancellable(
  graph: StoryGraph,
  checkpointer: BaseCheckpointSaver,
  pace: StoryPace,
  readTokens: number,
  onReached: (abort: () => void) => void,
): Promise<InProcessCancelSample> {
  const runId = randomUUID();
  const threadId = randomUUID();
  const controller = new AbortController();
  const settled = new RunSettledHandler(runId);
  const collector = new PartialCollector();
  const stream = await graph.stream(storyInput(), {
    configurable: { thread_id: threadId, story_tokens: pace.tokens, story_token_delay_ms: pace.delayMs },
    streamMode: ["messages", "values"],
    signal: controller.signal,
    callbacks: [settled],
    runId,
  });
  let received = 0;
  let afterAbort = 0;
  let t0 = Number.NaN;
  let thrown = Number.NaN;
  let atWallMs = Number.NaN;
  const abort = () => {
    if (!Number.isNaN(t0)) return;
    atWallMs = Date.now();
    t0 = performance.now();
    controller.abort(new RunStoppedError("interrupt", "cancel"));
  };
  try {
    for await (const [mode, payload] of stream as AsyncIterable<[string, any]>) {
      if (mode !== "messages") continue;
      collector.add(payload[0], payload[1]);
      received += 1;
      if (!Number.isNaN(t0)) afterAbort += 1;
      else if (received === readTokens) onReached(abort);
    }
    throw new Error(`in-process run ended after ${received} tokens without being cancelled`);
  } catch (err) {
    thrown = performance.now();
    if (!(err instanceof RunStoppedError)) throw err;
  }
  if (!(await settled.wait(5000))) throw new Error("in-process run: LangGraph never reported the root run's end");
  const settledAt = performance.now();
  const run = { run_id: runId, thread_id: threadId } as RunRecord;
  const { partial } = await savePartialOutput({
    graph: graph as unknown as RunnableGraph,
    checkpointer,
    run,
    collector,
    action: "interrupt",
    reason: "cancel",
    startCheckpointId: null,
  });
  const t1 = performance.now();
  if (!(partial.token_count > 0)) throw new Error(`in-process run: no partial saved (${JSON.stringify(partial)})`);
  return {
    latencyMs: t1 - t0,
    readTokens,
    tokensReceived: received,
    tokensAfterAbort: afterAbort,
    partialTokenCount: partial.token_count,
    atWallMs,
    phases: { abortToThrowMs: thrown - t0, throwToSettledMs: settledAt - thrown, settledToSavedMs: t1 - settledAt },
  };
}

/** Keeps `size` in-process graph runs streaming (each on a fresh thread), restarted as they finish, until stopped. */
export class InProcessLoad {
  private stopping = false;
  private readonly controllers = new Set<AbortController>();
  private loops: Promise<void>[] = [];
  private firstTokens = 0;
  private allStreaming!: () => void;
  readonly streaming = new Promise<void>((resolve) => (this.allStreaming = resolve));
  readonly errors: unknown[] = [];
  runsCompleted = 0;
  tokensDelivered = 0;

  constructor(
    private readonly graph: StoryGraph,
    private readonly size: number,
    private readonly pace: () => StoryPace,
  ) {}

  start(): this {
    this.loops = Array.from({ length: this.size }, () => this.loop().catch((err) => void this.errors.push(err)));
    return this;
  }

  private async loop(): Promise<void> {
    let first = true;
    while (!this.stopping) {
      const pace = this.pace();
      const controller = new AbortController();
      this.controllers.add(controller);
      try {
        const stream = await this.graph.stream(storyInput(), {
          configurable: { thread_id: randomUUID(), story_tokens: pace.tokens, story_token_delay_ms: pace.delayMs },
          streamMode: ["messages", "values"],
          signal: controller.signal,
        });
        for await (const [mode] of stream as AsyncIterable<[string, unknown]>) {
          if (mode !== "messages") continue;
          this.tokensDelivered += 1;
          if (first) {
            first = false;
            if (++this.firstTokens === this.size) this.allStreaming();
          }
        }
        this.runsCompleted += 1;
      } catch (err) {
        if (!controller.signal.aborted) throw err;
      } finally {
        this.controllers.delete(controller);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const c of this.controllers) c.abort(new Error("load stopped"));
    await Promise.all(this.loops);
    if (this.errors.length) throw new Error(`${this.errors.length} in-process load run(s) failed, first: ${String(this.errors[0])}`);
  }
}
