import type { CancelAction } from "@runline/core";
import { RunStoppedError, type StopCause } from "@runline/engine";
import type { RunControl, RunControlRegistration } from "@runline/queue";

/**
 * Every reason an attempt must stop, merged into one AbortSignal in one place: a recorded cancel (pub/sub or
 * the control poll), the run's time limit, a lost BullMQ lock, a later attempt taking over (the control poll,
 * or the journal's or checkpointer's fence refusing a write), and the worker draining. The first reason wins;
 * later ones are ignored, so the stop is decided once.
 */
export class AttemptGuard {
  private readonly controller = new AbortController();
  private readonly registration: RunControlRegistration;
  private timer: NodeJS.Timeout | null = null;
  private readonly onJobAbort = () => this.stop("interrupt", "cancel");

  constructor(
    readonly runId: string,
    control: RunControl,
    private readonly jobSignal?: AbortSignal,
  ) {
    // Registered before the claim: a cancel published between the claim and the first token is never missed,
    // and one recorded before the claim is in the claimed row.
    this.registration = control.register(runId, {
      onCancel: (action) => this.stop(action, "cancel"),
      onSuperseded: () => this.stop("interrupt", "superseded"),
    });
    // BullMQ's own cancelJob (process-local) counts as a cancel.
    jobSignal?.addEventListener("abort", this.onJobAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The reason the attempt was stopped, if it was. */
  get reason(): RunStoppedError | null {
    return this.controller.signal.aborted ? (this.controller.signal.reason as RunStoppedError) : null;
  }

  /** Called once the claim says which attempt this is: from now on the control poll checks it still owns the run. */
  own(attempt: number, runTimeoutMs: number): void {
    this.registration.own(attempt);
    if (runTimeoutMs > 0) this.timer = setTimeout(() => this.stop("interrupt", "timeout"), runTimeoutMs);
  }

  /** Stops the attempt (the first call wins). */
  stop(action: CancelAction, cause: StopCause): void {
    if (!this.controller.signal.aborted) this.controller.abort(new RunStoppedError(action, cause));
  }

  /** Releases the registration, the timer and the job-signal listener. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.jobSignal?.removeEventListener("abort", this.onJobAbort);
    this.registration.unregister();
  }
}
