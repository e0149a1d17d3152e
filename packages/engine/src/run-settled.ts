import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { CallbackManager } from "@langchain/core/callbacks/manager";

/**
 * Resolves when LangGraph reports the end of the root run (`handleChainEnd`/`handleChainError` for the run id we
 * gave `graph.stream`). LangGraph fires those only after its own checkpoint writes have settled; writing the
 * partial output before that can race them and corrupt the thread (seen in early-cancel cases).
 */
export class RunSettledHandler extends BaseCallbackHandler {
  name = "runline-run-settled";
  awaitHandlers = true;
  // Only the root chain's end matters; without these every streamed token would also be dispatched here.
  ignoreLLM = true;
  ignoreCustomEvent = true;
  ignoreRetriever = true;
  ignoreAgent = true;
  readonly settled: Promise<void>;
  private resolve!: () => void;

  constructor(private readonly rootRunId: string) {
    super();
    this.settled = new Promise((resolve) => (this.resolve = resolve));
  }

  /**
   * What to pass as `graph.stream`'s `callbacks`: this handler on the root run only. Given as `[handler]` it would
   * be inherited by every child run (each task, channel write and model call), and LangChain would do callback
   * work for it on each: 25–45 µs per token in `bench/micro/executor-overhead.ts`, for a handler that only
   * listens for the root's end.
   */
  rootCallbacks(): CallbackManager {
    const manager = new CallbackManager();
    manager.addHandler(this, false);
    return manager;
  }

  override handleChainEnd(_outputs: unknown, runId: string, parentRunId?: string): void {
    if (!parentRunId && runId === this.rootRunId) this.resolve();
  }

  override handleChainError(_err: unknown, runId: string, parentRunId?: string): void {
    if (!parentRunId && runId === this.rootRunId) this.resolve();
  }

  /** Waits for the settle signal, but never longer than `timeoutMs` (a graph that never reports must not hang a worker). */
  async wait(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([this.settled.then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}
