import type { AttemptJournal } from "@runline/journal";

/**
 * The run's output limit over what one attempt writes to the run's journal. The journal is what a run costs in
 * Redis and what every subscriber replays, so that is what is bounded, not tokens: a `values` event that repeats
 * a large state counts every time it is written. The journal counts the size as it encodes each event
 * ({@link AttemptJournal.bytesAppended}), so the limit costs no second `JSON.stringify` per token.
 */
export class OutputBudget {
  /** @param maxBytes most bytes of event data per run; 0 = no limit */
  constructor(
    readonly maxBytes: number,
    private readonly journal: Pick<AttemptJournal, "bytesAppended">,
  ) {}

  /** True once the attempt's journal output is past the limit (the event that crossed it is still written). */
  exceeded(): boolean {
    return this.maxBytes > 0 && this.journal.bytesAppended > this.maxBytes;
  }
}
