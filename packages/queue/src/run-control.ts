import type Redis from "ioredis";
import type { CancelAction } from "@runline/core";

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

/**
 * One per worker process: a subscriber connection that routes cancel messages to the runs this process owns.
 * Runs that are not here ignore the message: the owning process gets the same broadcast.
 */
export class CancelListener {
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, (action: CancelAction) => void>();

  constructor(connection: Redis, private readonly prefix: string) {
    this.subscriber = connection.duplicate();
    this.subscriber.on("error", () => undefined);
  }

  async start(): Promise<void> {
    this.subscriber.on("message", (_channel: string, raw: string) => {
      try {
        const message = JSON.parse(raw) as CancelMessage;
        this.handlers.get(message.runId)?.(message.action);
      } catch {
        /* a malformed message cannot name a run of ours */
      }
    });
    await this.subscriber.subscribe(cancelChannel(this.prefix));
  }

  /** Routes cancels for `runId` to `onCancel` until the returned function is called. */
  register(runId: string, onCancel: (action: CancelAction) => void): () => void {
    this.handlers.set(runId, onCancel);
    return () => {
      if (this.handlers.get(runId) === onCancel) this.handlers.delete(runId);
    };
  }

  async stop(): Promise<void> {
    this.handlers.clear();
    await this.subscriber.quit().catch(() => undefined);
  }
}
