import { AsyncLocalStorage } from "node:async_hooks";
import type { Pool, PoolClient } from "pg";

/** The attempt of a run on whose behalf code is running (see {@link runAsAttempt}). */
export interface AttemptOwner {
  runId: string;
  attempt: number;
}

/**
 * Opens a write's transaction and checks in it that the attempt still owns its run, in one round trip
 * (Runline: `RunsRepo.beginAsOwner`); false when it does not (the transaction is then open and is rolled back
 * by the saver).
 */
export type AttemptOwnershipCheck = (client: PoolClient, owner: AttemptOwner) => Promise<boolean>;

/** A checkpoint write by an attempt that no longer owns its run: refused and rolled back. */
export class AttemptFencedError extends Error {
  constructor(readonly owner: AttemptOwner) {
    super(`checkpoint write refused: attempt ${owner.attempt} of run ${owner.runId} no longer owns it`);
    this.name = "AttemptFencedError";
  }
}

const current = new AsyncLocalStorage<AttemptOwner>();

/**
 * Runs `fn` (a graph execution, a partial save) as `owner`: every checkpoint write it causes, including those
 * LangGraph makes in the background, is fenced (see {@link fencedPool}). AsyncLocalStorage carries the owner
 * through LangGraph's own async work, so no config has to be threaded through.
 */
export function runAsAttempt<T>(owner: AttemptOwner, fn: () => Promise<T>): Promise<T> {
  return current.run(owner, fn);
}

/** The owner of the code running now, if any. */
export function currentAttempt(): AttemptOwner | undefined {
  return current.getStore();
}

/**
 * The pool a saver writes through: a transaction begun on behalf of an attempt (see {@link runAsAttempt})
 * first checks, in the same transaction, that the attempt still owns its run, and refuses the write
 * otherwise. A worker that was paused past its lock, or lost it to a Redis outage, can then never write a
 * checkpoint into a thread that another attempt has taken over. Writes outside any attempt (the API's state
 * updates) pass as they are.
 */
export function fencedPool(pool: Pool, check: AttemptOwnershipCheck): Pool {
  const wrapper = {
    options: pool.options,
    query: pool.query.bind(pool),
    // The saver's own end() is a no-op: the pool is shared.
    end: async () => undefined,
    async connect() {
      const client = await pool.connect();
      const owner = current.getStore();
      return owner ? fenceClient(client, owner, check) : client;
    },
  };
  return wrapper as unknown as Pool;
}

/** What `BEGIN` answers; the saver does not read it. */
const BEGUN = { command: "BEGIN", rowCount: null, rows: [], fields: [] };

function fenceClient(client: PoolClient, owner: AttemptOwner, check: AttemptOwnershipCheck): PoolClient {
  const query = async (...args: unknown[]) => {
    // The saver opens every write with BEGIN: the check opens it instead, with the ownership read in the same
    // round trip (a checkpoint write is 3 to 5 statements, so a separate check was a fifth of its round trips).
    if (args[0] !== "BEGIN") return (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
    if (!(await check(client, owner))) throw new AttemptFencedError(owner);
    return BEGUN;
  };
  return new Proxy(client, {
    get(target, prop) {
      if (prop === "query") return query;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
