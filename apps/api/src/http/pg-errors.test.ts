import { PoolQueueTimeoutError } from "@runline/db";
import { AppError, DependencyUnavailableError } from "@runline/core";
import { translatePgError } from "./pg-errors";

const pgError = (code: string, message = "pg says no") => Object.assign(new Error(message), { code });

describe("translatePgError", () => {
  it("answers 409 THREAD_BUSY for a row lock held elsewhere (NOWAIT, lock_timeout)", () => {
    expect(translatePgError(pgError("55P03"))).toMatchObject({ status: 409, code: "THREAD_BUSY" });
  });

  it.each([
    ["a pool connect timeout", new Error("timeout exceeded when trying to connect")],
    ["a wait for a turn in Runline's pool queue", new PoolQueueTimeoutError(60_000, 12)],
    ["a socket connect timeout", new Error("Connection terminated due to connection timeout")],
    ["statement_timeout", pgError("57014", "canceling statement due to statement timeout")],
    ["idle_in_transaction_session_timeout", pgError("25P03")],
    ["too many connections", pgError("53300")],
  ])("answers 503 DEPENDENCY_UNAVAILABLE with a retry hint for %s", (_, err) => {
    const translated = translatePgError(err);
    expect(translated).toBeInstanceOf(DependencyUnavailableError);
    expect(translated).toMatchObject({ status: 503, code: "DEPENDENCY_UNAVAILABLE", retryAfterSeconds: 1 });
  });

  it.each(["22021", "22P05"])("answers 422 for a character Postgres cannot store (%s)", (code) => {
    expect(translatePgError(pgError(code))).toMatchObject({ status: 422, code: "VALIDATION_FAILED" });
  });

  it("leaves every other error alone (a bug stays a 500; an AppError keeps its own status)", () => {
    expect(translatePgError(pgError("23505"))).toBeNull();
    expect(translatePgError(new Error("boom"))).toBeNull();
    expect(translatePgError(new AppError("THREAD_BUSY", "busy", { status: 409 }))).toBeNull();
    expect(translatePgError(undefined)).toBeNull();
  });
});
