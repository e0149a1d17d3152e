import { isTransientError, retryTransient } from "./transient";

const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

describe("retryTransient", () => {
  it("retries connection errors, telling onRetry each time, until the operation succeeds", async () => {
    let calls = 0;
    const retries: number[] = [];
    const result = await retryTransient(
      async () => {
        if (++calls < 3) throw refused();
        return "done";
      },
      { name: "op", baseDelayMs: 1, onRetry: (r) => retries.push(r.attempt) },
    );
    expect(result).toBe("done");
    expect(retries).toEqual([1, 2]);
  });

  it("throws any other error at once: a bug is not retried", async () => {
    let calls = 0;
    const bug = new TypeError("x is not a function");
    await expect(retryTransient(async () => { calls++; throw bug; }, { name: "op", baseDelayMs: 1 })).rejects.toBe(bug);
    expect(calls).toBe(1);
  });

  it("stops when aborted (the process is closing) and when out of time", async () => {
    const controller = new AbortController();
    let calls = 0;
    const pending = retryTransient(async () => { if (++calls === 2) controller.abort(); throw refused(); }, { name: "op", baseDelayMs: 1, signal: controller.signal });
    await expect(pending).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(calls).toBe(2);
    await expect(retryTransient(async () => { throw refused(); }, { name: "op", baseDelayMs: 5, maxElapsedMs: 20 })).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("classifies Postgres and Redis connection failures as transient, and nothing else", () => {
    expect(isTransientError(Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }))).toBe(true);
    expect(isTransientError(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isTransientError(new Error("Connection is closed."))).toBe(true);
    expect(isTransientError(new Error("timed out waiting for a free Postgres connection after 60000 ms (3 waiting)"))).toBe(true);
    expect(isTransientError(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(false);
    expect(isTransientError(new Error("boom"))).toBe(false);
    expect(isTransientError(null)).toBe(false);
  });
});
