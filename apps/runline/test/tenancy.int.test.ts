import { collectSse } from "@runline/testing";
import { apiClient, startTestRunline, userInput, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("tenancy", { RUNLINE_API_KEYS: "key-a:alpha,key-b:beta" });
});
afterAll(async () => {
  await t.close();
});

describe("tenants", () => {
  it("refuses requests without a valid key, but keeps health endpoints open", async () => {
    const anonymous = apiClient(t.url);
    expect((await anonymous.post("/threads", {})).status).toBe(401);
    expect((await apiClient(t.url, "wrong").post("/threads", {})).status).toBe(401);
    expect((await anonymous.get("/ok")).status).toBe(200);
    expect((await anonymous.get("/readyz")).body).toMatchObject({ ok: true, checks: { redis: "ok", postgres: "ok" } });
  });

  it("accepts Authorization: Bearer as well as x-api-key", async () => {
    const res = await fetch(`${t.url}/threads`, { method: "POST", headers: { authorization: "Bearer key-b", "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(200);
  });

  it("another tenant cannot read, stream, join or list a tenant's threads and runs: 404, exactly like a missing id", async () => {
    const alpha = apiClient(t.url, "key-a");
    const beta = apiClient(t.url, "key-b");
    const threadId = (await alpha.post("/threads", {})).body.thread_id;
    const run = (await alpha.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("secret") })).body;
    await collectSse(`${t.url}/threads/${threadId}/runs/${run.run_id}/stream`, { headers: alpha.headers });

    const missing = await beta.get(`/threads/does-not-exist`);
    expect(missing.status).toBe(404);
    expect((await beta.get(`/threads/${threadId}`)).body.code).toBe(missing.body.code);
    for (const path of [
      `/threads/${threadId}`,
      `/threads/${threadId}/state`,
      `/threads/${threadId}/runs`,
      `/threads/${threadId}/runs/${run.run_id}`,
      `/threads/${threadId}/runs/${run.run_id}/stream`,
    ]) {
      const res = await beta.get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body.code).toMatch(/NOT_FOUND$/);
    }
    expect((await beta.post(`/threads/${threadId}/history`, {})).status).toBe(404);
    const foreignRun = await beta.post(`/threads/${threadId}/runs`, { assistant_id: "story", input: userInput("hijack") });
    expect(foreignRun.status).toBe(404);
    // and nothing was written for alpha's thread
    expect((await alpha.get(`/threads/${threadId}/runs`)).body).toHaveLength(1);
    // the owner still sees everything
    expect((await alpha.get(`/threads/${threadId}/state`)).body.values.messages).toHaveLength(2);
  });

  // Thread ids are per tenant (creating another tenant's id, two threads of one id): tenancy.scoped-ids.int.test.ts.
});
