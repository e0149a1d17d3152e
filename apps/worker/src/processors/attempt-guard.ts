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
  private lockTimer: NodeJS.Timeout | null = null;
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

  /**
   * Renews the job's lock for this attempt every half lock, and stops the attempt (`lock_lost`) if the lock
   * is no longer ours. BullMQ renews locks too, but it tracks them by job id: when a superseded attempt of
   * the same run finishes in this process, BullMQ stops renewing the new attempt's lock (seen: the takeover
   * then stalled again and BullMQ failed the job). Renewing here keeps each attempt's lock its own.
   */
  keepLock(job: { extendLock(token: string, duration: number): Promise<number> }, token: string | undefined, lockDurationMs: number): void {
    if (!token) return;
    this.lockTimer = setInterval(() => {
      job.extendLock(token, lockDurationMs).then(
        (extended) => {
          if (!extended) this.stop("interrupt", "lock_lost");
        },
        () => undefined, // Redis unreachable: the lock may still be ours; BullMQ's own renewal reports the loss
      );
    }, Math.max(50, Math.floor(lockDurationMs / 2)));
    this.lockTimer.unref();
  }

  /** Stops the attempt (the first call wins). */
  stop(action: CancelAction, cause: StopCause, message?: string): void {
    if (!this.controller.signal.aborted) this.controller.abort(new RunStoppedError(action, cause, message));
  }

  /** Releases the registration, the timer and the job-signal listener. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.lockTimer) clearInterval(this.lockTimer);
    this.jobSignal?.removeEventListener("abort", this.onJobAbort);
    this.registration.unregister();
  }
}
