import { Wakeup } from "./wakeup";

describe("Wakeup", () => {
  it("a wake ends the current sleep", async () => {
    const w = new Wakeup();
    const slept = w.sleep();
    w.wake();
    await slept;
  });

  it("a wake while nobody sleeps ends the next sleep at once, and only that one", async () => {
    const w = new Wakeup();
    w.wake();
    w.wake();
    await w.sleep();
    let woke = false;
    const next = w.sleep(20).then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    await next;
  });

  it("a sleep with a time ends after it without a wake", async () => {
    await new Wakeup().sleep(1);
  });
});
