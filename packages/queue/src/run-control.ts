import type Redis from "ioredis";
import { subscriberConnection } from "./connection";
import type { CancelAction, RunStatus } from "@runline/core";

/** The pub/sub channel that tells every worker process about a cancel (the only place this name is built). */
export function cancelChannel(prefix: string): string {
  return `${prefix}:control:cancel`;
}

export interface CancelMessage {
  runId: string;
  action: CancelAction;
}

/** Tells every worker that a run was cancelled. The intent must already be recorded in Postgres. */
export async function publishCancel(redis: Redis, prefix: string, message: CancelMessage): Promise<void> {
  await redis.publish(cancelChannel(prefix), JSON.stringify(message));
}

/** A run as the control loop reads it from Postgres, the record of truth. */
export interface RunControlState {
  run_id: string;
  status: RunStatus;
  attempt: number;
  cancel_action: CancelAction | null;
  cancel_requested: boolean;
}

/** What the owner of a run is told. */
export interface RunControlHandlers {
  /** A cancel was recorded (pub/sub, or found by the poll). May be called more than once. */
  onCancel(action: CancelAction): void;
  /** The run belongs to a later attempt, ended elsewhere, or is gone (thread deleted). */
  onSuperseded(): void;
}

/** One registered run; `own` is called once the attempt is known (after the claim). */
export interface RunControlRegistration {
  own(attempt: number): void;
  unregister(): void;
}

export interface RunControlOptions {
  /** Reads the current state of many runs in one query. */
  readStates(runIds: string[]): Promise<RunControlState[]>;
  /** How often the recorded state of every registered run is re-read. @defaultValue 1000 */
  pollIntervalMs?: number;
  /** Receives poll and connection errors (they are retried at the next tick). */
  onError?: (err: unknown) => void;
}

interface Registered extends RunControlHandlers {
  attempt: number | null;
}

/**
 * One per worker process: routes cancels to the runs this process executes. Pub/sub is the fast path, not
 * the record: a message published while the subscriber reconnects is gone. So the recorded state in Postgres
 * is re-read for every registered run at once, on every reconnect and every `pollIntervalMs` — a cancel
 * recorded in Postgres always takes effect, and an attempt that a later one superseded learns it too.
 */
export class RunControl {
  private readonly subscriber: Redis;
  private readonly runs = new Map<string, Registered>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private connectedBefore = false;
  private stopped = false;

  constructor(
    connection: Redis,
    private readonly prefix: string,
    private readonly options: RunControlOptions,
  ) {
    this.subscriber = subscriberConnection(connection, "runline:run-control");
    this.subscriber.on("error", (err) => this.options.onError?.(err));
  }

  async start(): Promise<void> {
    this.subscriber.on("message", (_channel: string, raw: string) => {
      const message = parseCancel(raw);
      if (message) this.runs.get(message.runId)?.onCancel(message.action);
    });
    this.subscriber.on("ready", () => {
      if (!this.connectedBefore) {
        this.connectedBefore = true;
        return;
      }
      // Back after a disconnect: whatever was published meanwhile is lost, so read the record now.
      void this.poll();
    });
    await this.subscriber.subscribe(cancelChannel(this.prefix));
    const interval = this.options.pollIntervalMs ?? 1000;
    this.timer = setInterval(() => void this.poll(), interval);
    this.timer.unref();
  }

  /** Routes cancels for `runId` to `handlers` until unregistered. Register before claiming the run. */
  register(runId: string, handlers: RunControlHandlers): RunControlRegistration {
    const entry: Registered = { ...handlers, attempt: null };
    this.runs.set(runId, entry);
    return {
      own: (attempt) => {
        entry.attempt = attempt;
      },
      unregister: () => {
        if (this.runs.get(runId) === entry) this.runs.delete(runId);
      },
    };
  }

  /** Re-reads every registered run's recorded state (one query); a poll already in flight is shared. */
  poll(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.polling ??= this.readAndDispatch().finally(() => (this.polling = null));
    return this.polling;
  }

  private async readAndDispatch(): Promise<void> {
    const owned = [...this.runs.entries()].filter(([, entry]) => entry.attempt !== null);
    if (!owned.length) return;
    let states: RunControlState[];
    try {
      states = await this.options.readStates(owned.map(([runId]) => runId));
    } catch (err) {
      this.options.onError?.(err);
      return;
    }
    const byId = new Map(states.map((s) => [s.run_id, s]));
    for (const [runId, entry] of owned) {
      if (this.runs.get(runId) !== entry) continue; // unregistered while we read
      const state = byId.get(runId);
      if (!state || state.status !== "running" || state.attempt !== entry.attempt) entry.onSuperseded();
      else if (state.cancel_requested) entry.onCancel(state.cancel_action ?? "interrupt");
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.runs.clear();
    await this.polling?.catch(() => undefined);
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}

function parseCancel(raw: string): CancelMessage | null {
  try {
    const message = JSON.parse(raw) as CancelMessage;
    return typeof message?.runId === "string" ? message : null;
  } catch {
    return null; // a malformed message cannot name a run of ours
  }
}
