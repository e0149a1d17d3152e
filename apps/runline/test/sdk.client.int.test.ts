import { Client } from "@langchain/langgraph-sdk";
import { startTestRunline, type TestRunline } from "./harness";

let t: TestRunline;
let client: Client;
beforeAll(async () => {
  t = await startTestRunline("sdk-client", { RUNLINE_API_KEYS: "sdk-key-a:alpha,sdk-key-b:beta" });
  client = new Client({ apiUrl: t.url, apiKey: "sdk-key-a" });
});
afterAll(async () => {
  await t.close();
});

const slow = { configurable: { story_tokens: 60, story_token_delay_ms: 15 } };
const input = (text: string) => ({ messages: [{ role: "user", content: text }] });

describe("the official LangGraph SDK Client against Runline", () => {
  it("finds the assistant by graph id and searches assistants", async () => {
    const assistant = await client.assistants.get("story");
    expect(assistant.graph_id).toBe("story");
    const found = await client.assistants.search({ graphId: "story" });
    expect(found.map((a) => a.assistant_id)).toEqual([assistant.assistant_id]);
    const schemas = await client.assistants.getSchemas(assistant.assistant_id);
    expect(schemas).toMatchObject({ graph_id: "story", state_schema: { type: "object", properties: { messages: {} } } });
    const drawable = await client.assistants.getGraph(assistant.assistant_id);
    expect(drawable.edges).toEqual(
      expect.arrayContaining([expect.objectContaining({ source: "__start__", target: "llm" }), expect.objectContaining({ source: "llm", target: "__end__" })]),
    );
  });

  it("streams a run, cancels it, and the partial is in the thread; the next run saw it", async () => {
    const thread = await client.threads.create({ metadata: { suite: t.ns.id } });
    let runId = "";
    const tokens: string[] = [];
    const stream = client.runs.stream(thread.thread_id, "story", {
      input: input("tell me a story"),
      streamMode: ["messages-tuple", "values"],
      config: slow,
      onRunCreated: (meta) => {
        runId = meta.run_id;
      },
    });
    let cancelled: any;
    for await (const chunk of stream) {
      if (chunk.event === "messages") {
        tokens.push((chunk.data as any)[0].content);
        if (tokens.length === 8 && !cancelled) cancelled = await client.runs.cancel(thread.thread_id, runId, true, "interrupt");
      }
    }
    expect(cancelled).toMatchObject({ outcome: "cancelled", partial: { token_count: tokens.length } });
    const state = await client.threads.getState<{ messages: any[] }>(thread.thread_id);
    expect(state.values.messages[1].content).toBe(tokens.join(""));
    const run = await client.runs.get(thread.thread_id, runId);
    expect(run.status).toBe("interrupted");

    const result = (await client.runs.wait(thread.thread_id, "story", { input: input("please continue the story"), config: { configurable: { story_tokens: 10, story_token_delay_ms: 0 } } })) as any;
    const last = result.messages[result.messages.length - 1].content;
    expect(last).toContain("saw 3 messages");
  });

  it("rollback keeps the partial on a branch visible in getHistory; a run from its checkpoint continues it", async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "story", { input: input("story"), config: slow, streamMode: ["messages-tuple"] });
    let seen = 0;
    for await (const chunk of client.runs.joinStream(thread.thread_id, run.run_id, { streamMode: ["messages-tuple"] })) {
      if (chunk.event === "messages" && ++seen === 5) break;
    }
    const answer: any = await client.runs.cancel(thread.thread_id, run.run_id, true, "rollback");
    expect(answer.partial.action).toBe("rollback");
    const history = await client.threads.getHistory(thread.thread_id, { limit: 50 });
    const branch = history.find((s) => s.checkpoint.checkpoint_id === answer.partial.checkpoint_id)!;
    expect(branch.parent_checkpoint?.checkpoint_id).toBe(answer.partial.parent_checkpoint_id);
    const head = await client.threads.getState(thread.thread_id);
    expect(head.checkpoint.checkpoint_id).toBe(answer.partial.head_checkpoint_id);
    const continued = (await client.runs.wait(thread.thread_id, "story", {
      input: input("go on"),
      checkpointId: answer.partial.checkpoint_id,
      config: { configurable: { story_tokens: 8, story_token_delay_ms: 0 } },
    })) as any;
    expect(continued.messages.map((m: any) => m.type)).toEqual(["human", "ai", "human", "ai"]);
  });

  it("joinStream with lastEventId loses and duplicates nothing", async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "story", { input: input("join me"), config: { configurable: { story_tokens: 30, story_token_delay_ms: 5 } }, streamMode: ["messages-tuple", "values"] });
    const first: any[] = [];
    for await (const chunk of client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: "-1" } as any)) {
      first.push(chunk);
      if (first.length === 6) break;
    }
    const lastId = (first[first.length - 1] as any).id;
    expect(lastId).toEqual(expect.any(String));
    const rest: any[] = [];
    for await (const chunk of client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: lastId } as any)) rest.push(chunk);
    const all: any[] = [];
    for await (const chunk of client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: "-1" } as any)) all.push(chunk);
    expect([...first, ...rest].map((c) => c.id)).toEqual(all.map((c) => c.id));
    expect(all.filter((c) => c.event === "messages")).toHaveLength(30);
  });

  it("forks with checkpointId, searches threads by metadata, and keeps tenants apart through apiKey", async () => {
    const thread = await client.threads.create({ metadata: { suite: t.ns.id, kind: "fork" } });
    await client.runs.wait(thread.thread_id, "story", { input: input("one"), config: { configurable: { story_tokens: 4, story_token_delay_ms: 0 } } });
    const afterOne = await client.threads.getState(thread.thread_id);
    await client.runs.wait(thread.thread_id, "story", { input: input("two"), config: { configurable: { story_tokens: 4, story_token_delay_ms: 0 } } });
    const forked = (await client.runs.wait(thread.thread_id, "story", {
      input: input("fork"),
      checkpointId: afterOne.checkpoint.checkpoint_id!,
      config: { configurable: { story_tokens: 4, story_token_delay_ms: 0 } },
    })) as any;
    expect(forked.messages.map((m: any) => m.content).slice(0, 3)).toEqual(["one", expect.any(String), "fork"]);

    const found = await client.threads.search({ metadata: { suite: t.ns.id, kind: "fork" } });
    expect(found.map((th) => th.thread_id)).toEqual([thread.thread_id]);

    const other = new Client({ apiUrl: t.url, apiKey: "sdk-key-b" });
    await expect(other.threads.get(thread.thread_id)).rejects.toThrow(/404/);
    expect(await other.threads.search({ metadata: { suite: t.ns.id } })).toEqual([]);
  });
});

describe("the rest of the SDK surface", () => {
  const quick = { configurable: { story_tokens: 4, story_token_delay_ms: 0 } };

  it("threads: update, count, updateState, getState at a checkpoint, delete", async () => {
    const thread = await client.threads.create({ metadata: { suite: t.ns.id, step: 1 } });
    const updated = await client.threads.update(thread.thread_id, { metadata: { step: 2 } });
    expect(updated.metadata).toMatchObject({ suite: t.ns.id, step: 2 });
    expect(await client.threads.count({ metadata: { suite: t.ns.id, step: 2 } })).toBe(1);
    await client.runs.wait(thread.thread_id, "story", { input: input("hello"), config: quick });
    const head = await client.threads.getState<{ messages: any[] }>(thread.thread_id);
    const written = await client.threads.updateState(thread.thread_id, {
      values: { messages: [{ type: "human", content: "by hand", id: "sdk-manual" }] },
      asNode: "llm",
    });
    expect(written.configurable?.checkpoint_id).toEqual(expect.any(String));
    const atHead = await client.threads.getState<{ messages: any[] }>(thread.thread_id, head.checkpoint.checkpoint_id!);
    expect(atHead.values.messages).toHaveLength(2);
    expect((await client.threads.getState<{ messages: any[] }>(thread.thread_id)).values.messages).toHaveLength(3);
    await client.threads.delete(thread.thread_id);
    await expect(client.threads.get(thread.thread_id)).rejects.toThrow(/404/);
  });

  it("runs: list, join, delete, stateless stream, cancelMany", async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "story", { input: input("join"), config: quick });
    const joined = (await client.runs.join(thread.thread_id, run.run_id)) as any;
    expect(joined.messages.map((m: any) => m.type)).toEqual(["human", "ai"]);
    expect((await client.runs.list(thread.thread_id)).map((r) => r.run_id)).toEqual([run.run_id]);
    await client.runs.delete(thread.thread_id, run.run_id);
    expect(await client.runs.list(thread.thread_id)).toEqual([]);

    const events: string[] = [];
    for await (const chunk of client.runs.stream(null, "story", { input: input("stateless"), config: quick, streamMode: "values" })) events.push(chunk.event);
    expect(events[0]).toBe("metadata");
    expect(events).toContain("values");

    const slowRun = await client.runs.create(thread.thread_id, "story", { input: input("slow"), config: slow });
    await client.runs.cancelMany({ runIds: [slowRun.run_id], action: "interrupt" });
    await client.runs.join(thread.thread_id, slowRun.run_id);
    expect((await client.runs.get(thread.thread_id, slowRun.run_id)).status).toBe("interrupted");
  });
});
