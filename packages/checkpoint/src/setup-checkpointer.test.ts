import type { Pool } from "pg";
import { setupCheckpointer, setupLockKey } from "./setup-checkpointer";

describe("setupCheckpointer", () => {
  test("refuses a one-connection pool instead of hanging", async () => {
    const pool = { options: { max: 1 }, connect: jest.fn() } as unknown as Pool;
    const saver = { schema: "s", setup: jest.fn(async () => undefined) };
    await expect(setupCheckpointer(saver, pool)).rejects.toThrow(/at least 2 connections/);
    expect(pool.connect).not.toHaveBeenCalled();
  });

  test("lock key is a fixed signed 64-bit integer per schema", () => {
    const key = setupLockKey("runline");
    expect(setupLockKey("runline")).toBe(key);
    expect(setupLockKey("other")).not.toBe(key);
    const n = BigInt(key);
    expect(n >= -(2n ** 63n) && n < 2n ** 63n).toBe(true);
  });
});
