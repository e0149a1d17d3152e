// Forks one thread twice from the same checkpoint against real Postgres, with Runline's saver and with the
// stock PostgresSaver, and runs concurrent setups. MemorySaver cannot stand in: it never had the fork bug.
import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph, type StateSnapshot } from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { createTestNamespace, type TestNamespace } from "@runline/testing";
import { Pool } from "pg";
import { BranchSafePostgresSaver, createCheckpointer, setupCheckpointer } from "./index";

let ns: TestNamespace;
// Extra schemas this file creates next to its namespace schema; dropped in afterAll.
const extraSchemas: string[] = [];
const extraSchema = (suffix: string): string => {
  const schema = `${ns.schema}_${suffix}`;
  extraSchemas.push(schema);
  return schema;
};

beforeAll(async () => {
  ns = await createTestNamespace("checkpoint");
});

afterAll(async () => {
  for (const schema of extraSchemas) await ns.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await ns.cleanup();
});

/** One node that answers deterministically, so the test needs no model. */
function echoGraph(checkpointer: BaseCheckpointSaver) {
  return new StateGraph(MessagesAnnotation)
    .addNode("echo", (state) => ({ messages: [new AIMessage(`echo: ${String(state.messages.at(-1)?.content)}`)] }))
    .addEdge(START, "echo")
    .addEdge("echo", END)
    .compile({ checkpointer });
}

const contents = (messages: BaseMessage[] | undefined): string[] => (messages ?? []).map((m) => String(m.content));
const idOf = (s: { config: { configurable?: Record<string, unknown> } }): string => String(s.config.configurable?.checkpoint_id);
const HELLO = ["hello", "echo: hello"];
const LEFT = [...HELLO, "left", "echo: left"];
const RIGHT = [...HELLO, "right", "echo: right"];

/** Runs "hello" (ending at checkpoint A), then forks A twice: "left", then "right". */
async function forkTwice(checkpointer: BaseCheckpointSaver) {
  const graph = echoGraph(checkpointer);
  const thread_id = "thread-fork";
  const head = async () => idOf(await graph.getState({ configurable: { thread_id } }));
  await graph.invoke({ messages: [new HumanMessage("hello")] }, { configurable: { thread_id } });
  const a = await head();
  const fork = { configurable: { thread_id, checkpoint_id: a } };
  const leftReturned = await graph.invoke({ messages: [new HumanMessage("left")] }, fork);
  const left = await head(); // a fork run moves the thread head to its own newest checkpoint
  const rightReturned = await graph.invoke({ messages: [new HumanMessage("right")] }, fork);
  const right = await head();
  const history: StateSnapshot[] = [];
  for await (const snapshot of graph.getStateHistory({ configurable: { thread_id } })) history.push(snapshot);
  const state = async (checkpoint_id: string) => graph.getState({ configurable: { thread_id, checkpoint_id } });
  return {
    a,
    left,
    right,
    returned: { left: contents(leftReturned.messages), right: contents(rightReturned.messages) },
    stored: { left: contents((await state(left)).values.messages), right: contents((await state(right)).values.messages) },
    history,
  };
}

/** Checkpoint ids from `id` up to (not including) `stop`, read from the history's parent links. */
function branchPath(history: StateSnapshot[], id: string, stop: string): StateSnapshot[] {
  const byId = new Map(history.map((s) => [idOf(s), s]));
  const path: StateSnapshot[] = [];
  for (let cur = byId.get(id); cur && idOf(cur) !== stop; ) {
    path.push(cur);
    const parent = cur.parentConfig?.configurable?.checkpoint_id;
    cur = parent === undefined ? undefined : byId.get(String(parent));
  }
  return path;
}

describe("BranchSafePostgresSaver", () => {
  test("two forks of one checkpoint each keep their own messages", async () => {
    const saver = await createCheckpointer(ns.pool, ns.schema);
    const run = await forkTwice(saver);

    expect(run.returned).toEqual({ left: LEFT, right: RIGHT });
    expect(run.stored).toEqual({ left: LEFT, right: RIGHT });

    // History: each branch's checkpoints hold only that branch's messages, and the two branches start with
    // sibling checkpoints whose parent is A.
    const leftPath = branchPath(run.history, run.left, run.a);
    const rightPath = branchPath(run.history, run.right, run.a);
    expect(leftPath.length).toBeGreaterThan(0);
    expect(rightPath.length).toBeGreaterThan(0);
    for (const s of leftPath) expect(contents(s.values.messages)).not.toContain("right");
    for (const s of rightPath) expect(contents(s.values.messages)).not.toContain("left");
    expect(contents(leftPath[0].values.messages)).toEqual(LEFT);
    expect(contents(rightPath[0].values.messages)).toEqual(RIGHT);
    const leftRoot = leftPath[leftPath.length - 1];
    const rightRoot = rightPath[rightPath.length - 1];
    expect(idOf(leftRoot)).not.toBe(idOf(rightRoot));
    expect(leftRoot.parentConfig?.configurable?.checkpoint_id).toBe(run.a);
    expect(rightRoot.parentConfig?.configurable?.checkpoint_id).toBe(run.a);
    const childrenOfA = run.history.filter((s) => s.parentConfig?.configurable?.checkpoint_id === run.a).map(idOf);
    expect(childrenOfA.sort()).toEqual([idOf(leftRoot), idOf(rightRoot)].sort());

    // Versions are strings of the `<32-digit counter>.<16 digits>` form.
    const tuple = await saver.getTuple({ configurable: { thread_id: "thread-fork", checkpoint_id: run.right } });
    for (const version of Object.values(tuple?.checkpoint.channel_versions ?? {})) {
      expect(version).toMatch(/^\d{32}\.\d{16}$/);
    }
  });

  // Control: the same scenario with the stock saver shows langgraphjs #1812, so the test above can fail.
  // If this starts failing after an upgrade, upstream fixed the bug: re-check whether the override is needed.
  test("control: the stock PostgresSaver gives the right fork the left fork's messages", async () => {
    const stock = new PostgresSaver(ns.pool, undefined, { schema: extraSchema("stock") });
    await stock.setup();
    const run = await forkTwice(stock);

    // The run itself computes the right answer in memory...
    expect(run.returned).toEqual({ left: LEFT, right: RIGHT });
    // ...but both forks wrote `messages` at the same integer version, and the second blob was dropped.
    expect(run.stored).toEqual({ left: LEFT, right: LEFT });
    const tuple = await stock.getTuple({ configurable: { thread_id: "thread-fork", checkpoint_id: run.right } });
    expect(typeof tuple?.checkpoint.channel_versions.messages).toBe("number");
  });
});

describe("setupCheckpointer", () => {
  // Separate pools behave like separate processes: they all contend for the advisory lock.
  const withPools = async <T>(n: number, fn: (pools: Pool[]) => Promise<T>): Promise<T> => {
    const pools = Array.from({ length: n }, () => new Pool({ connectionString: ns.databaseUrl, max: 2 }));
    try {
      return await fn(pools);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  };

  test("8 concurrent calls on a fresh schema all succeed", async () => {
    const schema = extraSchema("setup");
    const results = await withPools(8, (pools) =>
      Promise.allSettled(pools.map((pool) => setupCheckpointer(new BranchSafePostgresSaver(pool, { schema }), pool))),
    );
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);

    // Every migration ran exactly once, and so did calls that share one pool (queued in-process).
    const once = await ns.pool.query(`SELECT count(*)::int AS n, count(DISTINCT v)::int AS d FROM "${schema}".checkpoint_migrations`);
    expect(once.rows[0].n).toBe(once.rows[0].d);
    await Promise.all(Array.from({ length: 8 }, () => createCheckpointer(ns.pool, schema)));
    const again = await ns.pool.query(`SELECT count(*)::int AS n FROM "${schema}".checkpoint_migrations`);
    expect(again.rows[0].n).toBe(once.rows[0].n);
  });

  // Control: without the lock the same 8 calls collide (1 of 8 succeeded in every trial we ran).
  test("control: 8 concurrent bare setup() calls do not all succeed", async () => {
    const schema = extraSchema("bare");
    const results = await withPools(8, (pools) =>
      Promise.allSettled(pools.map((pool) => new PostgresSaver(pool, undefined, { schema }).setup())),
    );
    expect(results.filter((r) => r.status === "rejected").length).toBeGreaterThan(0);
  });
});
