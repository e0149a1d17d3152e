import type { CancelAction } from "@runline/core";

/** Why an attempt was stopped on purpose. */
export type StopCause =
  /** A recorded cancel (API, disconnect, multitask strategy). */
  | "cancel"
  /** The run's time limit. */
  | "timeout"
  /** The run wrote more to its journal than its output limit allows (a runaway model or graph). */
  | "output_limit"
  /** This worker is shutting down and its grace period ran out. */
  | "drain"
  /** BullMQ could not renew this worker's lock on the job: another worker may take the run over at any moment. */
  | "lock_lost"
  /** A later attempt owns the run, or the run ended elsewhere: this attempt may write nothing more. */
  | "superseded";

/** The abort reason of an attempt stopped on purpose. */
export class RunStoppedError extends Error {
  constructor(
    readonly action: CancelAction,
    readonly stopCause: StopCause,
    message = stopMessage(action, stopCause),
  ) {
    super(message);
    this.name = STOP_ERROR_NAMES[stopCause] ?? "RunStoppedError";
  }
}

/** The error name a stop reports (in the run's `error` and its `end` event), for the causes that have their own. */
const STOP_ERROR_NAMES: Partial<Record<StopCause, string>> = {
  timeout: "RunTimeoutError",
  output_limit: "RunOutputLimitError",
  cancel: "RunCancelledError",
};

export function isRunStopped(reason: unknown): reason is RunStoppedError {
  return reason instanceof RunStoppedError;
}

/** What an attempt does once stopped, by cause. */
export type StopDisposition =
  /** Save the partial output and finish the run with this status. */
  | { kind: "finish"; status: "interrupted" | "timeout" | "error" }
  /** Hand the run to another worker at once: the next attempt keeps this one's partial as a branch. */
  | { kind: "handoff" }
  /** Write nothing more: the run is, or will be, someone else's. */
  | { kind: "abandon" };

/** The one place that decides how a stop ends an attempt. */
export function stopDisposition(cause: StopCause): StopDisposition {
  switch (cause) {
    case "cancel":
      return { kind: "finish", status: "interrupted" };
    case "timeout":
      return { kind: "finish", status: "timeout" };
    case "output_limit":
      // A limit the run hit, not a stop someone asked for: it ends `error`, like any failure, partial kept.
      return { kind: "finish", status: "error" };
    case "drain":
      return { kind: "handoff" };
    case "lock_lost":
    case "superseded":
      return { kind: "abandon" };
    default:
      return assertNever(cause);
  }
}

function stopMessage(action: CancelAction, cause: StopCause): string {
  switch (cause) {
    case "cancel":
      return `run cancelled (${action})`;
    case "timeout":
      return "run exceeded its time limit";
    case "output_limit":
      return "run exceeded its output limit";
    case "drain":
      return "worker shutting down: run handed to another worker";
    case "lock_lost":
      return "worker lost its lock on the run";
    case "superseded":
      return "run belongs to a later attempt";
    default:
      return assertNever(cause);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected stop cause ${String(value)}`);
}
