/**
 * A sleep that `wake()` ends early. A `wake()` while nobody sleeps is kept for the next `sleep()`, so a loop that
 * checks its state, then parks, cannot miss a wake that came between the two: at worst it looks once more.
 */
export class Wakeup {
  private pending = false;
  private resolve: (() => void) | undefined;

  /** Ends the current sleep, or the next one at once. Bound, so it can be passed as a listener. */
  readonly wake = (): void => {
    const resolve = this.resolve;
    this.resolve = undefined;
    if (resolve) resolve();
    else this.pending = true;
  };

  /** Resolves on `wake()`, or after `ms` (undefined: only on `wake()`). */
  async sleep(ms?: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.resolve = resolve;
      if (ms !== undefined) timer = setTimeout(this.wake, Math.max(0, ms));
    });
    clearTimeout(timer);
  }
}
