/**
 * Counts the bytes one attempt writes to the run's journal and says when they pass the run's output limit.
 * The journal is what a run costs in Redis and what every subscriber replays, so that is what is bounded, not
 * tokens: a `values` event that repeats a large state counts every time it is written.
 */
export class OutputBudget {
  private used = 0;

  /** @param maxBytes most bytes of event data per run; 0 = no limit */
  constructor(readonly maxBytes: number) {}

  /** Adds one event; true once the total is past the limit (the event that crossed it is still written). */
  add(event: string, data: unknown): boolean {
    if (this.maxBytes <= 0) return false;
    // Length of the JSON in UTF-16 units: close enough to bytes for a limit, and no second encoding pass.
    this.used += event.length + (JSON.stringify(data)?.length ?? 0);
    return this.used > this.maxBytes;
  }

  get usedBytes(): number {
    return this.used;
  }
}
