import type { JournalEntry } from "./entry";

/** FIFO of live entries waiting for a subscriber; `Array#shift` is O(n), this is O(1) amortised. */
export class EntryQueue {
  private items: (JournalEntry | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(entry: JournalEntry): void {
    this.items.push(entry);
  }

  shift(): JournalEntry | undefined {
    if (this.head >= this.items.length) return undefined;
    const entry = this.items[this.head];
    // Let go of it at once: a subscriber that keeps up would otherwise hold up to the last 1,024 entries it already
    // wrote (with their encoded frames), ~100 KB per stream of a 100-token run, until the compaction below.
    this.items[this.head++] = undefined;
    // Compact once the consumed prefix dominates, so the array itself follows the backlog, not the run's history.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
