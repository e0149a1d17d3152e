import { AbortablePacer } from "./abortable-delay";

describe("AbortablePacer", () => {
  it("listens for the abort once for all its waits, and stops listening on dispose", async () => {
    const controller = new AbortController();
    const added = jest.spyOn(controller.signal, "addEventListener");
    const removed = jest.spyOn(controller.signal, "removeEventListener");
    const pacer = new AbortablePacer(controller.signal);
    for (let i = 0; i < 10; i++) await pacer.delay(0);
    pacer.dispose();
    expect(added).toHaveBeenCalledTimes(1);
    expect(removed).toHaveBeenCalledTimes(1);
    expect(removed.mock.calls[0]![1]).toBe(added.mock.calls[0]![1]);
  });

  it("cuts the wait in progress short with the signal's reason, and refuses the next one at once", async () => {
    jest.useFakeTimers();
    try {
      const controller = new AbortController();
      const pacer = new AbortablePacer(controller.signal);
      const first = pacer.delay(10);
      await jest.advanceTimersByTimeAsync(10);
      await first;
      const waiting = pacer.delay(60_000);
      const reason = new Error("stop");
      controller.abort(reason);
      await expect(waiting).rejects.toBe(reason);
      expect(jest.getTimerCount()).toBe(0);
      await expect(pacer.delay(0)).rejects.toBe(reason);
      pacer.dispose();
    } finally {
      jest.useRealTimers();
    }
  });
});
