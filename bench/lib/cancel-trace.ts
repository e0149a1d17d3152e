import { performance } from "node:perf_hooks";
import Redis from "ioredis";
import { CancelService } from "@runline/api-app";
import { threadKey } from "@runline/core";
import { RunsRepo } from "@runline/db";
import { RunLifecycle, RunSettledHandler } from "@runline/engine";
import { RunControl } from "@runline/queue";
import { median } from "./stats";

/**
 * Bench-only instrumentation of the cancel path of a Runline running in THIS process: wraps methods on the
 * prototypes of the classes involved (and, once, the journal writer object the finisher and the worker share) and
 * stamps `performance.now()` at each step, per run. Nothing of the project is modified on disk; {@link uninstall}
 * puts every original back. Used in a separate pass after the timed cells, so the headline numbers carry no
 * instrumentation at all.
 */
export type CancelMark =
  | "apiEntered" // CancelService.cancel called by the route (HTTP read, express routing, query parsed)
  | "intentRecorded" // RunsRepo.requestCancel resolved (after runs.get): the cancel is in Postgres
  | "endListening" // CancelService.listenForEnd resolved: SUBSCRIBE to the run's live channel acknowledged
  | "publishSent" // PUBLISH on <prefix>:control:cancel handed to ioredis
  | "publishAcked" // its reply
  | "workerAborted" // the worker's RunControl cancel handler called (controller.abort follows synchronously)
  | "executorCaught" // executeAttempt caught the throw and starts waiting for the settle signal
  | "chainSettled" // RunSettledHandler saw the root chain's error (LangGraph's writes settled)
  | "settleWaited" // RunSettledHandler.wait resolved in the worker
  | "saveStarted" // graph.getState of the thread called (savePartialOutput begins)
  | "updateStarted" // graph.updateState called
  | "partialSaved" // graph.updateState resolved: the partial checkpoint is committed
  | "valuesAppendStarted" // journal.append("values") called (final values after the stop)
  | "valuesAppended" // its reply
  | "finishStarted" // worker's RunLifecycle commit called (run row → interrupted, thread status, in one transaction)
  | "finishCommitted" // that transaction committed
  | "endAppendStarted" // journal.end called (RunLifecycle.announce)
  | "endAppended" // RunLifecycle.announce resolved (end appended + flushed, next run enqueued)
  | "endHeard" // the API's hub delivered `end` of the run to a listener
  | "apiFinishStarted" // API side: finisher.finish(onlyIfPending) (a no-op for a running run, runs concurrently)
  | "apiFinishDone"
  | "apiDone"; // CancelService.cancel resolved (after the final runs.getById); the route answers next

type Marks = Partial<Record<CancelMark, number>>;

export class CancelTracer {
  private readonly byRun = new Map<string, Marks>();
  private readonly threadToRun = new Map<string, string>();
  private restores: Array<() => void> = [];

  /** Marks the first time only (a step that happens twice, e.g. two `end` listeners, keeps its first stamp). */
  mark(runId: string | undefined, what: CancelMark, at = performance.now()): void {
    if (!runId) return;
    let marks = this.byRun.get(runId);
    if (!marks) this.byRun.set(runId, (marks = {}));
    if (marks[what] === undefined) marks[what] = at;
  }

  marks(runId: string): Marks {
    return this.byRun.get(runId) ?? {};
  }

  /** `graphProto` is the prototype that owns `getState`/`updateState` (LangGraph's Pregel). */
  install(graphProto: any): void {
    if (this.restores.length) return;
    const tracer = this;
    const patch = (target: any, name: string, wrap: (original: (...a: any[]) => any) => (...a: any[]) => any) => {
      const original = target[name];
      if (typeof original !== "function") {
        console.error(`bench: cancel trace: ${target?.constructor?.name ?? "?"}.${name} is gone, that step will show as "–"`);
        return;
      }
      target[name] = wrap(original);
      this.restores.push(() => (target[name] = original));
    };
    const after = <T>(p: Promise<T>, fn: () => void): Promise<T> => {
      p.then(fn, fn);
      return p;
    };

    patch(CancelService.prototype, "cancel", (orig) =>
      function (this: any, tenantId: string, threadId: string, runId: string, ...rest: any[]) {
        tracer.mark(runId, "apiEntered");
        // Keyed as the checkpointer names the thread (its tenant-scoped storage key), which is what it is looked up by.
        tracer.threadToRun.set(threadKey(tenantId, threadId), runId);
        tracer.wrapShared(this.deps);
        return after(orig.call(this, tenantId, threadId, runId, ...rest), () => tracer.mark(runId, "apiDone"));
      },
    );
    patch(CancelService.prototype, "listenForEnd", (orig) =>
      function (this: any, runId: string) {
        return after(orig.call(this, runId), () => tracer.mark(runId, "endListening"));
      },
    );
    patch(RunsRepo.prototype, "requestCancel", (orig) =>
      function (this: any, runId: string, ...rest: any[]) {
        return after(orig.call(this, runId, ...rest), () => tracer.mark(runId, "intentRecorded"));
      },
    );
    patch(Redis.prototype, "sendCommand", (orig) =>
      function (this: any, command: any, ...rest: any[]) {
        if (command?.name === "publish" && String(command.args?.[0]).endsWith(":control:cancel")) {
          try {
            const runId = JSON.parse(String(command.args[1])).runId;
            tracer.mark(runId, "publishSent");
            command.promise?.then(() => tracer.mark(runId, "publishAcked"), () => undefined);
          } catch {
            /* not ours */
          }
        }
        return orig.call(this, command, ...rest);
      },
    );
    patch(RunControl.prototype, "register", (orig) =>
      function (this: any, runId: string, handlers: { onCancel: (action: any) => void; onSuperseded: () => void }) {
        return orig.call(this, runId, {
          ...handlers,
          onCancel: (action: any) => {
            tracer.mark(runId, "workerAborted");
            handlers.onCancel(action);
          },
        });
      },
    );
    patch(RunSettledHandler.prototype, "wait", (orig) =>
      function (this: any, ...args: any[]) {
        const runId = this.rootRunId as string;
        tracer.mark(runId, "executorCaught");
        return after(orig.apply(this, args), () => tracer.mark(runId, "settleWaited"));
      },
    );
    patch(RunSettledHandler.prototype, "handleChainError", (orig) =>
      function (this: any, err: unknown, runId: string, parentRunId?: string, ...rest: any[]) {
        if (!parentRunId && runId === this.rootRunId) tracer.mark(runId, "chainSettled");
        return orig.call(this, err, runId, parentRunId, ...rest);
      },
    );
    patch(graphProto, "getState", (orig) =>
      function (this: any, config: any, ...rest: any[]) {
        const runId = tracer.runOfThread(config);
        // Only a getState after the abort is the partial save's (the API reads state elsewhere too).
        if (runId && tracer.marks(runId).settleWaited !== undefined) tracer.mark(runId, "saveStarted");
        return orig.call(this, config, ...rest);
      },
    );
    patch(graphProto, "updateState", (orig) =>
      function (this: any, config: any, ...rest: any[]) {
        const runId = tracer.runOfThread(config);
        tracer.mark(runId, "updateStarted");
        return after(orig.call(this, config, ...rest), () => tracer.mark(runId, "partialSaved"));
      },
    );
    // The worker's finishAttempt and the API's finishQueued (a queued run) both go through the private commit.
    patch(RunLifecycle.prototype as any, "commit", (orig) =>
      function (this: any, runId: string, threadId: string, outcome: any, cas: { from: string[] }, ...rest: any[]) {
        const api = !cas.from.includes("running");
        tracer.mark(runId, api ? "apiFinishStarted" : "finishStarted");
        return after(orig.call(this, runId, threadId, outcome, cas, ...rest), () => tracer.mark(runId, api ? "apiFinishDone" : "finishCommitted"));
      },
    );
    patch(RunLifecycle.prototype, "announce", (orig) =>
      function (this: any, run: { run_id: string }, ...rest: any[]) {
        return after(orig.call(this, run, ...rest), () => tracer.mark(run.run_id, "endAppended"));
      },
    );
  }

  private runOfThread(config: any): string | undefined {
    return this.threadToRun.get(config?.configurable?.thread_id);
  }

  private readonly wrapped = new WeakSet<object>();

  /**
   * The journal writer and the hub are plain objects (factories, not classes): wrapped in place, once, through
   * the CancelService's deps. The finisher's journal is the same object the worker appends through.
   */
  private wrapShared(deps: any): void {
    const tracer = this;
    const journal = deps?.finisher?.journal;
    if (journal && !this.wrapped.has(journal)) {
      this.wrapped.add(journal);
      const { append, end } = journal;
      journal.append = function (runId: string, event: string, data: unknown) {
        const p = append.call(this, runId, event, data);
        if (event === "values" && tracer.marks(runId).settleWaited !== undefined) {
          tracer.mark(runId, "valuesAppendStarted");
          p.then(() => tracer.mark(runId, "valuesAppended"), () => undefined);
        }
        return p;
      };
      journal.end = function (runId: string, data: unknown) {
        tracer.mark(runId, "endAppendStarted");
        return end.call(this, runId, data);
      };
      this.restores.push(() => {
        journal.append = append;
        journal.end = end;
      });
    }
    const hub = deps?.hub;
    if (hub && !this.wrapped.has(hub)) {
      this.wrapped.add(hub);
      const { listen } = hub;
      hub.listen = function (runId: string, onEntry: (entry: any) => void, opts?: unknown) {
        return listen.call(this, runId, (entry: any) => {
          if (entry?.event === "end") tracer.mark(runId, "endHeard");
          onEntry(entry);
        }, opts);
      };
      this.restores.push(() => (hub.listen = listen));
    }
  }

  uninstall(): void {
    for (const restore of this.restores.reverse()) restore();
    this.restores = [];
  }
}

/** The phases of one cancel, in order, as [label, from, to]; "request"/"response" are the client's clocks. */
export const CANCEL_PHASES: Array<[string, CancelMark | "request", CancelMark | "response"]> = [
  ["client → API handler (HTTP, express, query parse)", "request", "apiEntered"],
  ["API: read run + record intent (SELECT, UPDATE runs)", "apiEntered", "intentRecorded"],
  ["API: subscribe to the run's live channel (SUBSCRIBE ack)", "intentRecorded", "endListening"],
  ["API: PUBLISH cancel → worker's listener called", "endListening", "workerAborted"],
  ["worker: abort → executor caught the throw (model delay rejects, LangGraph unwinds)", "workerAborted", "executorCaught"],
  ["worker: caught → settled (LangGraph's handleChainError after its writes)", "executorCaught", "settleWaited"],
  ["worker: settled → save starts (journal flush)", "settleWaited", "saveStarted"],
  ["worker: getState (head checkpoint read)", "saveStarted", "updateStarted"],
  ["worker: updateState (partial checkpoint committed)", "updateStarted", "partialSaved"],
  ["worker: final `values` appended to the journal", "partialSaved", "valuesAppended"],
  ["worker: finish transaction (run → interrupted, thread idle; `finisher.commit`)", "valuesAppended", "endAppendStarted"],
  ["`end` appended → API's hub delivers it (Lua XADD+PUBLISH, pub/sub)", "endAppendStarted", "endHeard"],
  ["API: re-read the run (SELECT) → service returns", "endHeard", "apiDone"],
  ["API → client: JSON response written, received, parsed", "apiDone", "response"],
];

export interface TracedCancel {
  request: number;
  response: number;
  marks: Marks;
}

export interface PhaseStat {
  label: string;
  from: string;
  to: string;
  p50: number;
  p95: number;
  n: number;
}

/** Medians (and p95) of each phase over the traced cancels that have both marks. */
export function summarizePhases(samples: TracedCancel[]): { phases: PhaseStat[]; extra: Record<string, number> } {
  const at = (s: TracedCancel, m: CancelMark | "request" | "response") => (m === "request" ? s.request : m === "response" ? s.response : s.marks[m]);
  const pct = (xs: number[], p: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const rank = (p / 100) * (sorted.length - 1);
    const lo = Math.floor(rank);
    const hi = Math.ceil(rank);
    return sorted.length ? sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo) : Number.NaN;
  };
  const phases = CANCEL_PHASES.map(([label, from, to]) => {
    const xs = samples.map((s) => (at(s, to) ?? Number.NaN) - (at(s, from) ?? Number.NaN)).filter(Number.isFinite);
    return { label, from, to, p50: median(xs), p95: pct(xs, 95), n: xs.length };
  });
  const span = (from: CancelMark | "request", to: CancelMark | "response") =>
    median(samples.map((s) => (at(s, to) ?? Number.NaN) - (at(s, from) ?? Number.NaN)).filter(Number.isFinite));
  return {
    phases,
    extra: {
      totalMs: span("request", "response"),
      publishRoundTripMs: span("publishSent", "publishAcked"),
      endAppendReplyMs: span("endAppendStarted", "endAppended"),
      publishToWorkerMs: span("publishSent", "workerAborted"),
      apiFinishOnlyIfPendingMs: span("apiFinishStarted", "apiFinishDone"),
      requestToPartialSavedMs: span("request", "partialSaved"),
      partialSavedToResponseMs: span("partialSaved", "response"),
    },
  };
}
