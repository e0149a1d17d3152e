import path from "node:path";
import { startTestRunline, type TestRunline } from "./harness";
import { command, isTerminal, mintThreadId, openEvents, readUntil, startRun } from "./protocol-v2-helpers";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("protocol-v2-commands", { RUNLINE_CONFIG: path.join(__dirname, "fixtures/protocol-v2.test.json") });
});
afterAll(async () => {
  await t.close();
});

const ask = (threadId: string) =>
  command(t, threadId, "run.start", { assistant_id: "ask", input: { messages: [{ role: "user", content: "hi" }] }, config: { configurable: { thread_id: threadId } } });

describe("POST /threads/{tid}/commands", () => {
  it("answers every bad command with an error reply naming the problem (HTTP 200, never 5xx) and changes nothing", async () => {
    const threadId = mintThreadId(t);
    const post = (body: unknown) => t.api.request("POST", `/threads/${threadId}/commands`, body);
    const cases: Array<[unknown, string, RegExp]> = [
      [{ id: 1, method: "input.inject", params: {} }, "unknown_command", /input\.inject/],
      [{ id: 2, method: "state.get", params: {} }, "unknown_command", /state\.get/],
      [{ method: "run.start", params: {} }, "invalid_argument", /^id:/],
      [{ id: -1, method: "run.start" }, "invalid_argument", /^id:/],
      [{ id: 3, method: 7 }, "invalid_argument", /^method:/],
      [{ id: 4, method: "run.start", params: "x" }, "invalid_argument", /^params:/],
      [{ id: 5, method: "run.start", params: {} }, "invalid_argument", /params\.assistant_id/],
      [{ id: 6, method: "run.start", params: { assistant_id: "story", bogus: 1 } }, "invalid_argument", /bogus/],
      [{ id: 7, method: "run.start", params: { assistant_id: "story", config: { debug: true } } }, "invalid_argument", /params\.config/],
      [{ id: 8, method: "run.start", params: { assistant_id: "story", multitask_strategy: "sometimes" } }, "invalid_argument", /params\.multitask_strategy/],
      [{ id: 9, method: "run.start", params: { assistant_id: "story", metadata: [] } }, "invalid_argument", /params\.metadata/],
      [{ id: 10, method: "run.start", params: { assistant_id: "no-such-graph" } }, "invalid_argument", /no-such-graph/],
      [{ id: 11, method: "run.start", params: { assistant_id: "story", config: { configurable: { checkpoint_id: "nope" } } } }, "no_such_checkpoint", /nope/],
      [{ id: 12, method: "input.respond", params: {} }, "invalid_argument", /interrupt_id/],
      [{ id: 13, method: "input.respond", params: { interrupt_id: "abc", response: 1 } }, "no_such_interrupt", /abc/],
      [{ id: 14, method: "input.respond", params: { responses: [] } }, "invalid_argument", /params/],
    ];
    for (const [body, error, message] of cases) {
      const res = await post(body);
      expect({ body, status: res.status }).toEqual({ body, status: 200 });
      expect(res.body).toMatchObject({ type: "error", error, message: expect.stringMatching(message) });
      if (typeof (body as any).id === "number" && (body as any).id >= 0) expect(res.body.id).toBe((body as any).id);
    }
    expect((await t.api.get(`/threads/${threadId}`)).status).toBe(404);
    // A body that is not JSON never reaches the command layer: the shared boundary answers 4xx.
    expect((await t.api.request("POST", `/threads/${threadId}/commands`, "{", { "content-type": "application/json" })).status).toBeLessThan(500);
  });

  it("run.start creates the client-minted thread; input.respond resumes the interrupt by id (single and responses[] forms)", async () => {
    const threadId = mintThreadId(t);
    const stream = await openEvents(t, threadId, { channels: ["lifecycle", "input", "values"] });
    const started = await ask(threadId);
    expect(started.body).toMatchObject({ type: "success", result: { run_id: expect.any(String) }, meta: { applied_through_seq: expect.any(Number) } });
    const first = await readUntil(stream, isTerminal);
    expect(first.filter(isTerminal).map((e) => e.params.data.event)).toEqual(["interrupted"]);
    const requested = first.find((e) => e.method === "input.requested");
    expect(requested.params.data).toMatchObject({ interrupt_id: expect.any(String), payload: { question: "What is your name?" } });
    expect(first.some((e) => e.method === "values" && "__interrupt__" in e.params.data)).toBe(false);

    const respond = await command(t, threadId, "input.respond", { namespace: [], interrupt_id: requested.params.data.interrupt_id, response: "Ada" });
    expect(respond.body).toMatchObject({ type: "success", result: {} });
    const second = await readUntil(stream, isTerminal);
    expect(second.filter(isTerminal).map((e) => e.params.data.event)).toEqual(["completed"]);
    expect(second.filter((e) => e.method === "values").pop().params.data.messages.at(-1)).toMatchObject({ type: "ai", content: "hello Ada" });

    // Again, answered with the list form; and a run.start with input on a waiting thread is a resume too.
    await ask(threadId);
    const third = await readUntil(stream, isTerminal);
    const id = third.find((e) => e.method === "input.requested").params.data.interrupt_id;
    const many = await command(t, threadId, "input.respond", { responses: [{ namespace: [], interrupt_id: id, response: "Grace" }] });
    expect(many.body.type).toBe("success");
    const fourth = await readUntil(stream, isTerminal);
    expect(fourth.filter((e) => e.method === "values").pop().params.data.messages.at(-1).content).toBe("hello Grace");

    await ask(threadId);
    await readUntil(stream, isTerminal);
    const resumed = await command(t, threadId, "run.start", { assistant_id: "ask", input: "Linus" });
    expect(resumed.body.type).toBe("success");
    const sixth = await readUntil(stream, isTerminal);
    stream.close();
    expect(sixth.filter((e) => e.method === "values").pop().params.data.messages.at(-1).content).toBe("hello Linus");
  });

  it("run.start enqueues behind a running run by default and forks from config.configurable.checkpoint_id", async () => {
    const threadId = mintThreadId(t);
    const stream = await openEvents(t, threadId, { channels: ["lifecycle", "values", "checkpoints"] });
    await startRun(t, threadId, "first", { config: { configurable: { story_tokens: 30, story_token_delay_ms: 5 } } });
    await startRun(t, threadId, "second");
    const events = await readUntil(stream, (_e, all) => all.filter(isTerminal).length === 2);
    expect(events.filter(isTerminal).map((e) => e.params.data.event)).toEqual(["completed", "completed"]);
    const state = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(state.values.messages.map((m: any) => m.type)).toEqual(["human", "ai", "human", "ai"]);
    // Fork from before the second turn: the checkpoint that holds only the first exchange.
    const history = (await t.api.post(`/threads/${threadId}/history`, { limit: 20 })).body;
    const afterFirst = history.find((h: any) => h.values.messages.length === 2 && h.next.length === 0);
    await startRun(t, threadId, "branch", { config: { configurable: { checkpoint_id: afterFirst.checkpoint.checkpoint_id, story_tokens: 3, story_token_delay_ms: 0 } } });
    await readUntil(stream, isTerminal);
    stream.close();
    const forked = (await t.api.get(`/threads/${threadId}/state`)).body;
    expect(forked.values.messages.map((m: any) => m.content.slice(0, 6))).toEqual(["first", expect.any(String), "branch", expect.any(String)]);
    expect(forked.parent_checkpoint.checkpoint_id).not.toBe(state.checkpoint.checkpoint_id);
  });
});
