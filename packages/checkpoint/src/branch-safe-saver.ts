import { randomInt } from "node:crypto";
import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Checkpoint, CheckpointMetadata, PendingWrite } from "@langchain/langgraph-checkpoint";
import { retryTransient } from "@runline/core";
import type { Pool } from "pg";
import { saverPool, type AttemptOwnershipCheck } from "./attempt-fence";

const COUNTER_DIGITS = 32;

/** A channel version as LangGraph passes it around (`ChannelVersion` is not exported by the package). */
export type ChannelVersion = number | string;

/**
 * Returns the channel version that follows `current`: `<counter + 1, 32 digits>.<16 random digits>`, the
 * format of LangGraph's Python Postgres saver.
 *
 * The random part makes every write unique to its branch: two forks of one checkpoint both move a channel
 * from counter n to n + 1, and with plain integers they would store their blobs under the same
 * `(channel, version)` key, where `ON CONFLICT DO NOTHING` keeps only the first (langgraphjs #1812).
 * The fixed-width zero padding keeps versions ordered the same way by every comparison LangGraph uses:
 * `>` on strings (task triggers, new-version detection) and `localeCompare` (`maxChannelVersion`).
 *
 * @param current - the channel's current version (as LangGraph passes it: a number for threads written by
 *   the stock saver, a string written by this function, or `undefined` for a channel never written).
 * @throws if `current` is a string whose integer part is not a non-negative integer.
 */
export function nextBranchVersion(current: ChannelVersion | undefined): string {
  const counter = parseCounter(current) + 1;
  // 16 random digits from two 8-digit draws (randomInt's range must stay below 2^48).
  const random = `${randomInt(1e8)}`.padStart(8, "0") + `${randomInt(1e8)}`.padStart(8, "0");
  return `${String(counter).padStart(COUNTER_DIGITS, "0")}.${random}`;
}

function parseCounter(current: ChannelVersion | undefined): number {
  if (current === undefined) return 0;
  if (typeof current === "number") return Math.trunc(current);
  const integerPart = current.split(".")[0];
  if (!/^\d+$/.test(integerPart)) throw new Error(`Unrecognised channel version: ${JSON.stringify(current)}`);
  return Number.parseInt(integerPart, 10);
}

/** Options for {@link BranchSafePostgresSaver}. */
export interface BranchSafePostgresSaverOptions {
  /** Postgres schema holding the checkpoint tables (created by `setup()` if missing). */
  schema: string;
  /** Serializer for checkpoint values; defaults to LangGraph's JSON+ serializer. */
  serde?: SerializerProtocol;
  /** Fences writes made on behalf of a run attempt (see `saverPool`). @defaultValue no fence */
  ownership?: AttemptOwnershipCheck;
  /** Longest a write retries through a Postgres outage (connection errors only). @defaultValue 30_000 */
  retryForMs?: number;
  /** Told about every retried write. */
  onRetry?: (info: { name: string; attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * `PostgresSaver` whose channel versions are unique per write, so branches forked from one checkpoint
 * never read each other's values (see {@link nextBranchVersion}).
 *
 * Runs on a pool the caller owns and shares: {@link BranchSafePostgresSaver.end} does not end it.
 *
 * Do not use it on a schema that already holds threads written by the stock saver: their integer versions
 * mixed with these strings make `maxChannelVersion` pick the wrong maximum (it compares `String(5)` with
 * `"000…06.…"` by `localeCompare`, so any integer wins). If a channel keeps an integer version (one the
 * graph never rewrites), the counter stops advancing and later runs on that thread silently do nothing:
 * `__start__` gets a version below the one already seen, so no node triggers and the input is lost.
 */
export class BranchSafePostgresSaver extends PostgresSaver {
  /** The schema this saver's tables live in (used, e.g., to derive the setup lock key). */
  readonly schema: string;

  private readonly retryOptions: { maxElapsedMs: number; onRetry?: BranchSafePostgresSaverOptions["onRetry"] };

  constructor(pool: Pool, options: BranchSafePostgresSaverOptions) {
    // Always through saverPool, fence or not: it also sends each write transaction in one round trip.
    super(saverPool(pool, options.ownership), options.serde, { schema: options.schema });
    this.schema = options.schema;
    this.retryOptions = { maxElapsedMs: options.retryForMs ?? 30_000, onRetry: options.onRetry };
  }

  /** A Postgres restart mid-run costs the run a delay, not its life: writes are upserts, safe to repeat. */
  override put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: Record<string, number | string>) {
    return retryTransient(() => super.put(config, checkpoint, metadata, newVersions as never), { name: "checkpoint.put", ...this.retryOptions });
  }

  override putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string) {
    return retryTransient(() => super.putWrites(config, writes, taskId), { name: "checkpoint.put_writes", ...this.retryOptions });
  }

  /**
   * Next version for a channel, in the format of {@link nextBranchVersion}.
   *
   * Typed as `number` only because `PostgresSaver` extends `BaseCheckpointSaver<number>`; at run time
   * LangGraph and the saver handle `number | string` versions (the saver stores `version.toString()`).
   */
  override getNextVersion(current: number | undefined): number {
    return nextBranchVersion(current) as unknown as number;
  }

  /** Does nothing: the pool belongs to the caller and is shared with the rest of the service. */
  override async end(): Promise<void> {}
}
