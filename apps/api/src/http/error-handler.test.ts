import type { Request, Response } from "express";
import { errorHandler } from "./error-handler";

/** Just enough of an Express response to see what the handler sends. */
function fakeResponse() {
  const sent: { status?: number; headers: Record<string, string>; body?: any } = { headers: {} };
  const res = {
    headersSent: false,
    locals: {},
    set(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
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
