import type { CancelAction } from "@runline/core";

/** The abort reason of a run stopped on purpose: a cancel (with its action) or the run limit. */
export class RunStoppedError extends Error {
  constructor(
    readonly action: CancelAction,
    readonly cause: "cancel" | "timeout",
    message = cause === "timeout" ? "run exceeded its time limit" : `run cancelled (${action})`,
  ) {
    super(message);
    this.name = cause === "timeout" ? "RunTimeoutError" : "RunCancelledError";
  }
}

export function isRunStopped(reason: unknown): reason is RunStoppedError {
  return reason instanceof RunStoppedError;
}
