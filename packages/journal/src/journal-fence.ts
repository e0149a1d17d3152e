/** Why the journal refused a write. */
export type JournalRefusal =
  /** A later attempt of the run owns the journal now: this attempt was superseded and must stop. */
  | "superseded"
  /** The run's `end` is already written: nothing may follow it. */
  | "ended";

/** A write the journal's fence refused (see {@link JournalRefusal}). */
export class JournalFencedError extends Error {
  constructor(
    readonly runId: string,
    readonly refusal: JournalRefusal,
  ) {
    super(refusal === "ended" ? `run ${runId} already ended` : `run ${runId} belongs to a later attempt`);
    this.name = "JournalFencedError";
  }
}

/** The journal as one attempt of a run sees it: every append carries the attempt and a sequence number. */
export interface AttemptJournal {
  readonly runId: string;
  readonly attempt: number;
  /**
   * Appends one event (see {@link JournalWriter.append}). The fence refuses it once a later attempt wrote to
   * the journal or the run ended (the promise rejects with {@link JournalFencedError}, and `onRefused` runs
   * once). A retransmission of the same append (ioredis re-sends commands whose reply was lost) is dropped.
   */
  append(event: string, data: unknown): Promise<string>;
  /**
   * {@link append} for a caller that does not wait for this one (a run's tokens): no promise is made for it, and
   * its failure, or its refusal, is reported by the next {@link flush}. Throws like `append` for data JSON cannot encode.
   */
  push(event: string, data: unknown): void;
  /**
   * Makes this attempt the journal's owner before it reads or writes anything: from here on, the previous
   * attempt's appends are refused. Rejects with {@link JournalFencedError} if a later attempt owns it or the
   * run ended.
   */
  claim(): Promise<void>;
  /** Waits for every append of this attempt so far; rejects with the first failure since the last flush. */
  flush(): Promise<void>;
  /**
   * Size of what this attempt has appended: event names plus their JSON, in UTF-16 units (close enough to
   * bytes for a limit). Counted as each append is encoded, so a budget on it costs no second encoding.
   */
  readonly bytesAppended: number;
}

