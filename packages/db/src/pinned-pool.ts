import { AsyncLocalStorage } from "node:async_hooks";
import { Pool, type PoolClient, type PoolConfig } from "pg";
import { ConnectionQueue } from "./connection-queue";

/** A pool pinned to one of its clients for one async call tree (see {@link pinPool}). */
interface Pin {
  pool: Pool;
  client: PoolClient;
  /** Cleared when the pinned call returns: work it left behind (a timer, a listener) goes back to the pool. */
  open: boolean;
  /** Pinned code asked for a ROLLBACK: the surrounding transaction must not commit. */
  rolledBack: boolean;
}

const pins = new AsyncLocalStorage<Pin>();

/** Tells code that batches its own transactions (`@runline/checkpoint`) that this connection is pinned. */
export const PINNED_CONNECTION = Symbol.for("runline.pinned-connection");

const TRANSACTION_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK)\s*;?\s*$/i;

export interface PinnablePoolConfig extends PoolConfig {
  /** Longest a checkout waits behind others for one of `max` connections (0 = no limit); see {@link ConnectionQueue}. */
  queueTimeoutMillis?: number;
}

/**
 * A `pg` pool that {@link pinPool} can route to a client the caller already holds. Outside a pin it is a plain pool
 * whose checkouts first wait their turn in a {@link ConnectionQueue}, so `connectionTimeoutMillis` only bounds
 * opening a connection, never waiting behind other callers.
 *
 * Why: code that only knows the pool (LangGraph's Postgres checkpointer) takes a fresh connection for every read
 * and write. Called by a request that already holds a connection (a transaction with a thread row locked), that
 * is a request holding one connection while waiting for another from the same pool: enough such requests at once
 * and every connection waits on the others, forever (issue #8). Pinned, that code runs on the held connection.
 */
export class PinnablePool extends Pool {
  private readonly turns: ConnectionQueue;

  constructor(config: PinnablePoolConfig) {
    super(config);
    this.turns = new ConnectionQueue(config.max ?? 10, config.queueTimeoutMillis ?? 0);
  }

  /** Checkouts waiting for a free connection now. */
  get queued(): number {
    return this.turns.waiting;
  }

  override connect(): Promise<PoolClient>;
  override connect(callback: (err: Error | undefined, client: PoolClient | undefined, done: (release?: unknown) => void) => void): void;
  override connect(callback?: (err: Error | undefined, client: PoolClient | undefined, done: (release?: unknown) => void) => void): Promise<PoolClient> | void {
    const pin = activePin(this);
    if (!pin) {
      const checkout = this.checkout();
      if (!callback) return checkout;
      checkout.then(
        (client) => callback(undefined, client, (release) => client.release(release as Error | boolean | undefined)),
        (err: Error) => callback(err, undefined, () => undefined),
      );
      return;
    }
    const view = pinnedView(pin);
    if (!callback) return Promise.resolve(view);
    queueMicrotask(() => callback(undefined, view, () => undefined));
  }

  /** A connection once this caller's turn came; its `release()` also ends the turn. */
  private async checkout(): Promise<PoolClient> {
    await this.turns.acquire();
    let client: PoolClient;
    try {
      client = await super.connect();
    } catch (err) {
      this.turns.release();
      throw err;
    }
    // pg-pool sets a fresh once-only `release` on every checkout; wrap that one.
    const release = client.release.bind(client);
    let released = false;
    client.release = (err?: Error | boolean) => {
      if (!released) {
        released = true;
        this.turns.release();
      }
      return release(err);
    };
    return client;
  }

  // pg's overloads of `query` are many; a pinned call forwards the arguments untouched to the client, which has the same ones.
  override query(...args: unknown[]): any {
    const pin = activePin(this);
    if (pin) return (pin.client.query as (...a: unknown[]) => unknown).apply(pin.client, args);
    return (super.query as (...a: unknown[]) => unknown).apply(this, args);
  }
}

function activePin(pool: Pool): Pin | null {
  const pin = pins.getStore();
  return pin && pin.open && pin.pool === pool ? pin : null;
}

/**
 * The client as pinned code sees it: its own BEGIN/COMMIT become no-ops (it is already inside the caller's
 * transaction, and a COMMIT would end that transaction and release its locks early); its ROLLBACK marks the
 * caller's transaction as failed; `release()` keeps the connection, which the caller releases itself.
 */
function pinnedView(pin: Pin): PoolClient {
  const query = (...args: unknown[]) => {
    const text = typeof args[0] === "string" ? args[0] : null;
    const control = text ? TRANSACTION_CONTROL.exec(text)?.[1]?.toUpperCase() : undefined;
    if (control === undefined) return (pin.client.query as (...a: unknown[]) => unknown).apply(pin.client, args);
    if (control === "ROLLBACK") pin.rolledBack = true;
    const done = { command: control, rowCount: null, rows: [], fields: [] };
    const callback = args.find((a) => typeof a === "function") as ((err: undefined, res: unknown) => void) | undefined;
    if (callback) queueMicrotask(() => callback(undefined, done));
    return callback ? undefined : Promise.resolve(done);
  };
  return new Proxy(pin.client, {
    get(target, prop) {
      if (prop === "query") return query;
      if (prop === PINNED_CONNECTION) return true;
      if (prop === "release") return () => undefined;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Runs `fn` with `pool` pinned to `client`, a connection of that pool the caller holds (typically inside
 * {@link withTransaction}): every `pool.query` and `pool.connect` made from `fn`'s async call tree runs on
 * `client`, so `fn` never waits for a second connection from the pool, and its writes commit or roll back with
 * the caller's transaction. Only `fn`'s own call tree is affected; other requests use the pool as usual.
 *
 * Pinned code must not run statements concurrently that depend on each other's order: they share one connection.
 *
 * @throws if `pool` was not made by `createPool` (a plain `pg.Pool` cannot be pinned, and silently not pinning
 *   would bring the deadlock back); or, after `fn` resolved, if pinned code rolled its work back.
 */
export async function pinPool<T>(pool: Pool, client: PoolClient, fn: () => Promise<T>): Promise<T> {
  if (!(pool instanceof PinnablePool)) throw new Error("pinPool needs a pool made by createPool");
  const pin: Pin = { pool, client, open: true, rolledBack: false };
  try {
    const result = await pins.run(pin, fn);
    if (pin.rolledBack) throw new Error("Pinned work rolled back its changes; the transaction must not commit");
    return result;
  } finally {
    pin.open = false;
  }
}
