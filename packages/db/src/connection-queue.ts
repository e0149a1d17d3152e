/** A wait for a free connection that ran out of time: the pool is saturated, the database may be fine. */
export class PoolQueueTimeoutError extends Error {
  constructor(
    readonly waitedMs: number,
    readonly queued: number,
  ) {
    super(`timed out waiting for a free Postgres connection after ${waitedMs} ms (${queued} waiting)`);
    this.name = "PoolQueueTimeoutError";
  }
}

interface Waiter {
  grant: () => void;
  timer?: NodeJS.Timeout;
}

/**
 * At most `slots` holders at once; the rest wait in arrival order, each for at most `timeoutMs` (0 = no limit).
 *
 * Why it exists beside pg-pool's own queue: pg-pool has one timeout (`connectionTimeoutMillis`) for two different
 * waits. Opening a socket to Postgres that takes seconds means Postgres is gone: fail fast. Waiting seconds behind
 * other callers for one of `max` connections means the process is busy: that is load, and a run failing because
 * of it loses work the user paid for. In front of the pool, this queue takes the second wait, with its own
 * (long) limit, so pg-pool never queues and its timeout only bounds opening a connection.
 */
export class ConnectionQueue {
  private held = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly slots: number,
    private readonly timeoutMs: number,
  ) {}

  /** Callers waiting for a slot now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves once the caller holds a slot; it must call {@link release} exactly once after. */
  acquire(): Promise<void> {
    if (this.held < this.slots && this.waiters.length === 0) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const waiter: Waiter = { grant: resolve };
      if (this.timeoutMs > 0) {
        waiter.timer = setTimeout(() => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(new PoolQueueTimeoutError(Date.now() - started, this.waiters.length));
        }, this.timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }

  /** Gives a slot back: straight to the longest waiter, if any. */
  release(): void {
    const next = this.waiters.shift();
    if (!next) {
      this.held--;
      return;
    }
    clearTimeout(next.timer);
    next.grant();
  }
}
