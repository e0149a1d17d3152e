import type { Request, Response } from "express";
import { z } from "zod";
import { AppError } from "@runline/core";
import { errorHandler } from "./error-handler";

/** Just enough of an Express response to see what the handler sends. */
function fakeResponse() {
  const sent: { status?: number; headers: Record<string, string>; body?: any } = { headers: {} };
  const res = {
    headersSent: false,
    locals: {},
    set(name: string | Record<string, string>, value?: string) {
      const pairs = typeof name === "string" ? { [name]: value ?? "" } : name;
      for (const [k, v] of Object.entries(pairs)) sent.headers[k.toLowerCase()] = v;
      return res;
    },
    status(code: number) {
      sent.status = code;
      return res;
    },
    type: () => res,
    json(body: unknown) {
      sent.body = body;
      return res;
    },
  };
  return { res: res as unknown as Response, sent };
}

const handle = (err: unknown) => {
  const { res, sent } = fakeResponse();
  errorHandler(err, {} as Request, res, () => undefined);
  return sent;
};

describe("errorHandler and Postgres failures", () => {
  it("answers a pool connect timeout with 503 DEPENDENCY_UNAVAILABLE and Retry-After", () => {
    const sent = handle(new Error("timeout exceeded when trying to connect"));
    expect(sent.status).toBe(503);
    expect(sent.headers["retry-after"]).toBe("1");
    expect(sent.body).toMatchObject({ code: "DEPENDENCY_UNAVAILABLE", status: 503 });
  });

  it("answers lock_not_available with 409 THREAD_BUSY and no Retry-After", () => {
    const sent = handle(Object.assign(new Error("could not obtain lock on row"), { code: "55P03" }));
    expect(sent.status).toBe(409);
    expect(sent.headers["retry-after"]).toBeUndefined();
    expect(sent.body).toMatchObject({ code: "THREAD_BUSY" });
  });

  it("keeps any other error a 500", () => {
    expect(handle(new Error("boom")).status).toBe(500);
  });
});

describe("errorHandler and hostile input", () => {
  it("lists at most 20 issues, with messages cut short, whatever the input", () => {
    const result = z.array(z.enum(["values"])).safeParse(Array(10_000).fill("x".repeat(1000)));
    const sent = handle(result.error);
    expect(sent.status).toBe(422);
    expect(sent.body.issues).toHaveLength(20);
    expect(sent.body.issues_omitted).toBe(9_980);
    expect(JSON.stringify(sent.body).length).toBeLessThan(10_000);
  });

  it("answers LangGraph's refusals of a state update with 422, without echoing the values", () => {
    const invalid = Object.assign(new Error('Node "nope" does not exist'), { name: "InvalidUpdateError" });
    expect(handle(invalid)).toMatchObject({ status: 422, body: { code: "VALIDATION_FAILED", detail: expect.stringContaining("nope") } });
    const coercion = Object.assign(new Error('Unable to coerce message.\n\nReceived: {"content":"secret"}'), { lc_error_code: "MESSAGE_COERCION_FAILURE" });
    const sent = handle(coercion);
    expect(sent.status).toBe(422);
    expect(JSON.stringify(sent.body)).not.toContain("secret");
  });

  it("sends an AppError's headers (the admin key's Basic challenge)", () => {
    const sent = handle(new AppError("ADMIN_KEY_REQUIRED", "Send the admin key", { status: 401, headers: { "WWW-Authenticate": "Basic" } }));
    expect(sent.status).toBe(401);
    expect(sent.headers["www-authenticate"]).toBe("Basic");
  });
});
