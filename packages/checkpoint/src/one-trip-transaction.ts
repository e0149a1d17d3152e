import { escapeLiteral, type PoolClient } from "pg";

/**
 * Marks a connection that already sits inside a caller's transaction (`@runline/db`'s pinned view): its BEGIN
 * and COMMIT are no-ops, so a batch carrying them as text must never be sent to it. A registry symbol, so this
 * package needs no dependency on the one that sets it.
 */
export const PINNED_CONNECTION = Symbol.for("runline.pinned-connection");

const CONTROL = /^\s*(BEGIN|COMMIT|ROLLBACK)\s*;?\s*$/i;
/**
 * Statements held back: INSERTs whose result nobody reads (no RETURNING), with no quoted text and no comment,
 * so that every `$` left is a parameter (checked again by {@link inlineParameters}).
 */
const HOLDABLE = /^\s*INSERT\s+INTO\s(?![\s\S]*('|--|\/\*|\bRETURNING\b))/i;
/** A batch stops growing here (the literals of big blobs are twice their size): the rest goes with parameters. */
const MAX_BATCH_CHARS = 8 * 1024 * 1024;

const answered = (command: string) => ({ command, rowCount: 0, rows: [], fields: [] });

/**
 * A connection on which a write transaction (BEGIN, INSERTs, COMMIT: how LangGraph's Postgres saver writes
 * every checkpoint and every task's writes) reaches Postgres in one round trip instead of one per statement.
 *
 * Why: a checkpoint write was 4 to 5 round trips, each a socket write and a wait for the event loop to read the
 * answer. Under load (hundreds of runs in one process) the connection sat idle in transaction between them,
 * so writes held the pool's connections several times longer than Postgres needed, and every round trip cost
 * CPU on this side. Held back and sent at COMMIT as one simple-protocol query, the same statements run in the
 * same transaction, in the same order, with the same outcome.
 *
 * How: BEGIN opens a batch with `opening` (e.g. the attempt fence's assertion) after it; each INSERT whose
 * parameters can be written as literals is added to the batch with them inlined (escaped: the values are data);
 * COMMIT sends the batch. Anything else (a SELECT, a parameter that cannot be inlined, a callback-style call)
 * first sends what is held, then runs as usual, so the connection behaves as a plain one would. A ROLLBACK
 * before anything was sent sends nothing. A statement that fails stops the batch there: Postgres skips the
 * rest, the transaction is aborted, and the caller's ROLLBACK goes to the server. `translate` maps a failure
 * (e.g. the fence's SQLSTATE to its error class) before the caller sees it.
 */
export function oneTripTransactions(client: PoolClient, opening: readonly string[], translate: (err: unknown) => unknown = (e) => e): PoolClient {
  const send = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  let held: string[] | null = null;
  let heldChars = 0;
  const run = async (...args: unknown[]) => {
    try {
      return await send(...args);
    } catch (err) {
      throw translate(err);
    }
  };
  const flush = async (tail?: string) => {
    const batch = held!;
    held = null;
    if (tail) batch.push(tail);
    const results = await run(batch.join(";\n"));
    return Array.isArray(results) ? results[results.length - 1] : results;
  };
  const query = async (...args: unknown[]) => {
    const [text, values] = args;
    if (typeof text !== "string" || args.some((a) => typeof a === "function")) {
      if (held) await flush();
      return run(...args);
    }
    const control = CONTROL.exec(text)?.[1]?.toUpperCase();
    if (control === "BEGIN") {
      if (held) await flush();
      held = ["BEGIN", ...opening];
      heldChars = 0;
      return answered("BEGIN");
    }
    if (held) {
      if (control === "COMMIT") return flush("COMMIT");
      if (control === "ROLLBACK") {
        held = null;
        return answered("ROLLBACK");
      }
      const inlined = HOLDABLE.test(text) ? inlineParameters(text, Array.isArray(values) ? values : []) : null;
      if (inlined !== null && heldChars + inlined.length <= MAX_BATCH_CHARS) {
        held.push(inlined);
        heldChars += inlined.length;
        return answered("INSERT");
      }
      await flush();
    }
    return run(...args);
  };
  return withQuery(client, query);
}

/** `client` with its `query` replaced (everything else, `release` included, is the client's own). */
export function withQuery(client: PoolClient, query: (...args: unknown[]) => Promise<unknown>): PoolClient {
  return new Proxy(client, {
    get(target, prop) {
      if (prop === "query") return query;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * `text` with each `$n` replaced by parameter n written as a SQL literal, or null when some parameter has no
 * literal form here (the statement then runs with parameters, as it was written). Only called on text without
 * single quotes (see HOLDABLE); double-quoted identifiers are copied as they are.
 */
export function inlineParameters(text: string, values: readonly unknown[]): string | null {
  const literals = values.map(literalOf);
  if (literals.some((l) => l === null)) return null;
  let out = "";
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return null;
      out += text.slice(i, end + 1);
      i = end + 1;
    } else if (c === "$") {
      // `$n` only as a token of its own: `tab$1` is an identifier, not a parameter.
      if (i > 0 && /[\w$]/.test(text[i - 1]!)) return null;
      const digits = /^\$(\d+)/.exec(text.slice(i, i + 12));
      const literal = digits ? literals[Number(digits[1]) - 1] : undefined;
      if (!digits || literal === undefined) return null; // dollar quoting, or a parameter that was not given
      out += literal;
      i += digits[0].length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * A value as node-postgres would send it, written as a literal: text and numbers escaped, bytes as hex, a plain
 * object as its JSON (what pg sends for one). Null for what has no safe literal form here: U+0000 (the simple protocol
 * ends a query at a zero byte; with parameters Postgres refuses it with a clear error instead), arrays (pg
 * turns them into Postgres arrays), dates and anything with its own `toPostgres`.
 */
function literalOf(value: unknown): string | null {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") return value.includes("\0") ? null : escapeLiteral(value);
  // Scalars quoted, as pg sends them (untyped text): Postgres resolves their type from the column, as it does for
  // a parameter, and a negative number cannot meet a `-` before it and start a comment.
  if (typeof value === "number") return Number.isFinite(value) ? escapeLiteral(String(value)) : null;
  if (typeof value === "boolean") return value ? "'true'" : "'false'";
  if (value instanceof Uint8Array) return `decode('${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")}', 'hex')`;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype && !("toPostgres" in value)) {
    const json: unknown = JSON.stringify(value);
    return typeof json === "string" ? escapeLiteral(json) : null;
  }
  return null;
}
