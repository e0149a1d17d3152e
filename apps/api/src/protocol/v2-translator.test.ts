import type { JournalEntry } from "@runline/journal";
import { createEventFilter } from "./v2-filter";
import { RunTranslator } from "./v2-translator";
import { RUN_SEQ_SPAN, type V2Event } from "./v2-event";

const run = { run_id: "r1", graph_id: "story", thread_seq: 3 };
let clock = 1000;
const entry = (event: string, data: unknown): JournalEntry => ({ id: `${clock++}-0`, event, dataJson: JSON.stringify(data) });
const chunk = (text: string) => entry("messages", [{ id: "m1", type: "ai", content: text }, { langgraph_node: "llm" }]);
const checkpoint = (id: string, parent: string | null, step: number) =>
  entry("checkpoints", { config: { configurable: { checkpoint_id: id } }, parent_config: parent ? { configurable: { checkpoint_id: parent } } : null, metadata: { step, source: "loop" } });

function translateAll(entries: JournalEntry[]): V2Event[] {
  const translator = new RunTranslator(run);
  return entries.flatMap((e) => translator.translate(e));
}

const summary = (events: V2Event[]) => events.map((e) => `${e.method}:${(e.params.data as any)?.event ?? ""}`);

function completedRun(): JournalEntry[] {
  return [
    entry("metadata", { run_id: "r1", attempt: 1 }),
    entry("values", { messages: [{ id: "h1", type: "human", content: "hi" }] }),
    checkpoint("c0", "c-1", 0),
    chunk("Once"),
    chunk(" upon"),
    entry("updates", { llm: { messages: [{ id: "m1", type: "ai", content: "Once upon", usage_metadata: { output_tokens: 2 } }] } }),
    entry("values", { messages: [{ id: "h1", type: "human", content: "hi" }, { id: "m1", type: "ai", content: "Once upon" }] }),
    checkpoint("c1", "c0", 1),
    entry("end", { run_id: "r1", status: "success" }),
  ];
}

describe("RunTranslator", () => {
  it("turns a finished run into lifecycle, content-block messages, updates, and checkpoints paired before their values", () => {
    const events = translateAll(completedRun());
    expect(summary(events)).toEqual([
      "lifecycle:started",
      "lifecycle:running",
      "checkpoints:",
      "values:",
      "messages:message-start",
      "messages:content-block-start",
      "messages:content-block-delta",
      "messages:content-block-delta",
      "messages:content-block-finish",
      "messages:message-finish",
      "updates:",
      "checkpoints:",
      "values:",
      "lifecycle:completed",
    ]);
    expect(events[8].params.data).toEqual({ event: "content-block-finish", index: 0, content: { type: "text", text: "Once upon" } });
    expect(events[9].params.data).toEqual({ event: "message-finish", usage: { output_tokens: 2 } });
    expect(events[11].params.data).toEqual({ id: "c1", parent_id: "c0", step: 1, source: "loop" });
    expect(events[4].params).toMatchObject({ node: "llm", namespace: [] });
  });

  it("numbers events from durable data only: the same journal gives the same event_id and seq, seq rising from the run's base", () => {
    const entries = completedRun();
    const a = translateAll(entries);
    const b = translateAll(entries);
    expect(b.map((e) => [e.event_id, e.seq, e.params.timestamp])).toEqual(a.map((e) => [e.event_id, e.seq, e.params.timestamp]));
    expect(a.map((e) => e.seq)).toEqual(a.map((_e, i) => 3 * RUN_SEQ_SPAN + i + 1));
    expect(new Set(a.map((e) => e.event_id)).size).toBe(a.length);
    expect(a.every((e) => e.event_id.startsWith("synth:r1:"))).toBe(true);
  });

  it("a stop: the open message is finished and marked partial, then one interrupted lifecycle", () => {
    const events = translateAll([
      entry("metadata", {}),
      chunk("Once"),
      entry("values", { messages: [{ id: "m1", type: "ai", content: "Once" }] }),
      checkpoint("partial", "c0", 2),
      entry("end", { status: "interrupted", partial: { checkpoint_id: "partial" } }),
    ]);
    expect(summary(events).slice(-5)).toEqual(["checkpoints:", "values:", "messages:content-block-finish", "messages:message-finish", "lifecycle:interrupted"]);
    expect(events.at(-2)!.params.data).toMatchObject({ partial: true, reason: "cancelled" });
    expect(events.filter((e) => e.method === "lifecycle" && ["completed", "failed", "interrupted"].includes((e.params.data as any).event))).toHaveLength(1);
  });

  it("interrupts become input.requested once each; values lose __interrupt__; the run ends interrupted", () => {
    const interrupt = [{ id: "i1", value: { question: "name?" } }];
    const events = translateAll([
      entry("metadata", {}),
      entry("updates", { __interrupt__: interrupt }),
      entry("values", { messages: [], __interrupt__: interrupt }),
      entry("end", { status: "success" }),
    ]);
    expect(events.filter((e) => e.method === "input.requested").map((e) => e.params.data)).toEqual([{ interrupt_id: "i1", payload: { question: "name?" } }]);
    expect(events.find((e) => e.method === "values")!.params.data).toEqual({ messages: [] });
    expect((events.at(-1)!.params.data as any).event).toBe("interrupted");
  });

  it("the chunk LangGraph streams at an interrupt (only __interrupt__) asks for input and sends no empty values", () => {
    const interrupt = [{ id: "i2", value: "ok?" }];
    const events = translateAll([entry("metadata", {}), entry("values", { __interrupt__: interrupt }), entry("end", { status: "success" })]);
    expect(events.filter((e) => e.method === "input.requested")).toHaveLength(1);
    expect(events.filter((e) => e.method === "values")).toHaveLength(0);
  });

  it("an error ends failed with its message; a takeover restart finishes the lost attempt's message as partial", () => {
    const failed = translateAll([entry("metadata", {}), entry("error", { error: "Boom", message: "it broke" }), entry("end", { status: "error" })]);
    expect(failed.at(-1)!.params.data).toEqual({ event: "failed", graph_name: "story", error: "it broke" });
    const restarted = translateAll([entry("metadata", {}), chunk("Once"), entry("metadata", { restarted: true })]);
    expect(summary(restarted).slice(-3)).toEqual(["messages:content-block-finish", "messages:message-finish", "lifecycle:running"]);
  });

  it("a terminal run without an end in its journal still gets exactly one terminal, and nothing after it", () => {
    const translator = new RunTranslator(run);
    translator.translate(entry("metadata", {}));
    const tail = translator.finishWithoutEnd("timeout", "run limit");
    expect(tail.at(-1)!.params.data).toEqual({ event: "failed", graph_name: "story", error: "run limit" });
    expect(translator.translate(entry("end", { status: "timeout" }))).toEqual([]);
    expect(translator.finishWithoutEnd("timeout")).toEqual([]);
  });

  it("subgraph events carry their namespace; custom events their payload", () => {
    const events = translateAll([entry("metadata", {}), entry("custom|child:abc", { progress: 1 })]);
    expect(events.at(-1)!.params).toMatchObject({ namespace: ["child:abc"], data: { payload: { progress: 1 } } });
  });
});

describe("createEventFilter", () => {
  const ev = (method: string, namespace: string[], seq = 1, data: unknown = {}): V2Event => ({ type: "event", event_id: "x", seq, method, params: { namespace, timestamp: 0, data } });

  it("channels are a set; input selects input.requested; custom selects named custom channels", () => {
    const keep = createEventFilter({ channels: ["input", "custom"] });
    expect(keep(ev("input.requested", []))).toBe(true);
    expect(keep(ev("custom", [], 1, { name: "a2a", payload: 1 }))).toBe(true);
    expect(keep(ev("values", []))).toBe(false);
    expect(createEventFilter({ channels: ["custom:a2a"] })(ev("custom", [], 1, { payload: 1 }))).toBe(false);
  });

  it("namespaces are prefixes where name matches name:<id>; depth bounds the segments below; since is exclusive", () => {
    const keep = createEventFilter({ channels: ["values"], namespaces: [["child"]], depth: 1 });
    expect(keep(ev("values", ["child:123"]))).toBe(true);
    expect(keep(ev("values", ["child:123", "inner:9"]))).toBe(true);
    expect(keep(ev("values", ["child:123", "inner:9", "deep:1"]))).toBe(false);
    expect(keep(ev("values", ["children:1"]))).toBe(false);
    expect(keep(ev("values", []))).toBe(false);
    const root = createEventFilter({ channels: ["values"], namespaces: [[]], depth: 0 });
    expect(root(ev("values", []))).toBe(true);
    expect(root(ev("values", ["child:1"]))).toBe(false);
    const since = createEventFilter({ channels: ["values"], since: 5 });
    expect([5, 6].map((seq) => since(ev("values", [], seq)))).toEqual([false, true]);
  });
});
