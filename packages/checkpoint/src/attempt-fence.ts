import { AsyncLocalStorage } from "node:async_hooks";
import type { Pool, PoolClient } from "pg";
import { oneTripTransactions, PINNED_CONNECTION, withQuery } from "./one-trip-transaction";

/** The attempt of a run on whose behalf code is running (see {@link runAsAttempt}). */
export interface AttemptOwner {
  runId: string;
  attempt: number;
}

/**
 * How a write's transaction checks that its attempt still owns its run (Runline: `RunsRepo.ownerAssertionSql`).
 */
export interface AttemptOwnershipCheck {
  /** A statement that fails unless `owner` still owns its run, run first in the write's transaction. */
  assertionSql(owner: AttemptOwner): string;
  /** Whether an error is that statement's refusal. */
  refused(err: unknown): boolean;
}

export class AttemptFencedError extends Error {
  constructor(readonly owner: AttemptOwner) {
    super(`checkpoint write refused: attempt ${owner.attempt} of run ${owner.runId} no longer owns it`);
    this.name = "AttemptFencedError";
  }
}

const current = new AsyncLocalStorage<AttemptOwner>();

/**
 * Runs `fn` (a graph execution, a partial save) as `owner`: every checkpoint write it causes, including those
 * LangGraph makes in the background, is fenced (see {@link saverPool}). AsyncLocalStorage carries the owner
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
 * The pool a saver writes through.
 *
 * - With a `check`, a transaction begun on behalf of an attempt (see {@link runAsAttempt}) first checks, in the same
 *   transaction, that the attempt still owns its run, and refuses the write otherwise
 *   ({@link AttemptFencedError}). A worker that was paused past its lock, or lost it to a Redis outage, can then
 *   never write a checkpoint into a thread that another attempt has taken over. Writes outside any attempt (the
 *   API's state updates) pass as they are.
 * - Every write transaction, check included, reaches Postgres in one round trip (see {@link oneTripTransactions}).
 */
export function saverPool(pool: Pool, check?: AttemptOwnershipCheck): Pool {
  const wrapper = {
    options: pool.options,
    query: pool.query.bind(pool),
    // The saver's own end() is a no-op: the pool is shared.
    end: async () => undefined,
    async connect() {
      const owner = check ? current.getStore() : undefined;
      // Before the checkout: a throw here must not leave a connection checked out.
      const opening = owner ? [check!.assertionSql(owner)] : [];
      const client = await pool.connect();
      const translate = (err: unknown) => (owner && check!.refused(err) ? new AttemptFencedError(owner) : err);
      if ((client as unknown as Record<symbol, unknown>)[PINNED_CONNECTION] === true) return owner ? checkAfterBegin(client, opening[0]!, translate) : client;
      return oneTripTransactions(client, opening, translate);
    },
  };
  return wrapper as unknown as Pool;
}

/**
 * The fence on a connection that is already inside the caller's transaction (where BEGIN is a no-op and a batch
 * must not carry one): the assertion runs as its own statement right after BEGIN.
 */
function checkAfterBegin(client: PoolClient, assertion: string, translate: (err: unknown) => unknown): PoolClient {
  const send = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
  const query = async (...args: unknown[]) => {
    const result = await send(...args);
    if (args[0] === "BEGIN") await send(assertion).catch((err: unknown) => Promise.reject(translate(err)));
    return result;
  };
  return withQuery(client, query);
}
