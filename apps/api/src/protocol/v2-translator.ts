import { messagesInUpdate } from "@runline/engine";
import { END_EVENT, GAP_EVENT, type JournalEntry } from "@runline/journal";
import { eventIdOf, seqOf, type V2Event } from "./v2-event";

/** The durable facts about a run the translation depends on (nothing else, so it is deterministic). */
export interface TranslatedRun {
  run_id: string;
  graph_id: string;
  /** The run's ordinal in its thread (`runs.thread_seq`). */
  thread_seq: number;
}

/** A message whose content-block events are open (started, not finished). */
interface OpenMessage {
  namespace: string[];
  node?: string;
  text: string;
}

type Data = Record<string, any>;

/**
 * Turns one run's classic journal (the entries the worker wrote, in order, from the first) into protocol v2
 * events. Pure: the same entries give the same events with the same `event_id` and `seq`, so a reconnect, another
 * API process or a restart reproduces them exactly. Feed it every entry from the start of the run's journal
 * (state such as open messages and the event index is rebuilt by replay); `since` filtering happens after.
 *
 * Every run gets exactly one terminal `lifecycle` (completed | failed | interrupted): from its `end` entry, which
 * the run lifecycle writes once for every way a run ends (success, error, cancel, timeout, crash takeover), or
 * from {@link finishWithoutEnd} when the journal expired.
 */
export class RunTranslator {
  private index = 0;
  private started = false;
  private terminal = false;
  private hitlInterrupt = false;
  private lastError: string | undefined;
  private readonly open = new Map<string, OpenMessage>();
  private readonly requested = new Set<string>();
  /**
   * A root `values` event waiting for the next entry. LangGraph streams a step's `values` and then its
   * `checkpoints`; the client pairs a checkpoint with the `values` that follows it (useMessageMetadata's
   * parentCheckpointId, which `forkFrom` needs), so the pair goes out checkpoint first.
   */
  private held: V2Event | undefined;

  constructor(private readonly run: TranslatedRun) {}

  /** True once the run's terminal lifecycle event was produced. */
  get finished(): boolean {
    return this.terminal;
  }

  translate(entry: JournalEntry): V2Event[] {
    if (this.terminal || entry.event === GAP_EVENT) return [];
    const [base, ...namespace] = entry.event.split("|");
    const out = new Emitter(this, entry);
    const data = JSON.parse(entry.dataJson) as unknown;
    const held = this.held;
    this.held = undefined;
    if (held && !(base === "checkpoints" && namespace.length === 0)) out.release(held);
    switch (base) {
      case "metadata":
        this.onMetadata(out, data as Data);
        break;
      case "values":
        this.onValues(out, namespace, data);
        break;
      case "updates":
        this.onUpdates(out, namespace, data);
        break;
      case "messages":
        this.onMessageChunk(out, namespace, data as [Data, Data]);
        break;
      case "checkpoints":
        out.push("checkpoints", namespace, checkpointEnvelope(data as Data));
        if (held) out.release(held);
        break;
      case "tasks":
        out.push("tasks", namespace, data);
        break;
      case "custom":
        out.push("custom", namespace, { payload: data });
        break;
      case "error": {
        const error = data as Data;
        this.lastError = typeof error?.message === "string" ? error.message : String(error?.error ?? "error");
        break;
      }
      case END_EVENT:
        this.onEnd(out, data as Data);
        break;
      default:
        // `debug` and future classic events have no v2 counterpart.
        break;
    }
    return out.events;
  }

  /**
   * The terminal event of a run that is terminal but whose journal has no `end` (expired, or never written and
   * not yet repaired by the reconciler), from the run row's status. Its event id names no journal entry.
   */
  finishWithoutEnd(status: string, error?: string | null): V2Event[] {
    if (this.terminal) return [];
    const out = new Emitter(this, { id: "status", event: END_EVENT, dataJson: "null" });
    if (this.held) out.release(this.held);
    this.held = undefined;
    this.ensureStarted(out);
    this.finishOpenMessages(out, true);
    this.pushTerminal(out, status, error ?? undefined);
    return out.events;
  }

  /** @internal the next event's seq (1-based index within the run). */
  nextSeq(): number {
    this.index += 1;
    return seqOf(this.run.thread_seq, this.index);
  }

  private onMetadata(out: Emitter, data: Data) {
    if (!this.started) return this.ensureStarted(out);
    // A takeover restarted the run: what the lost attempt streamed stays as it was, marked partial.
    if (data?.restarted) {
      this.finishOpenMessages(out, true);
      out.push("lifecycle", [], { event: "running", graph_name: this.run.graph_id });
    }
  }

  private ensureStarted(out: Emitter) {
    if (this.started) return;
    this.started = true;
    out.push("lifecycle", [], { event: "started", graph_name: this.run.graph_id });
    out.push("lifecycle", [], { event: "running", graph_name: this.run.graph_id });
  }

  private onValues(out: Emitter, namespace: string[], data: unknown) {
    this.ensureStarted(out);
    let values = data;
    if (data && typeof data === "object" && !Array.isArray(data) && "__interrupt__" in data) {
      const { __interrupt__: interrupts, ...rest } = data as Data;
      this.requestInputs(out, namespace, interrupts);
      // At an interrupt LangGraph streams a chunk holding only `__interrupt__`: it is no snapshot of the state,
      // and sent as `values: {}` the client would replace its state with nothing but its messages.
      if (Object.keys(rest).length === 0) return;
      values = rest;
    }
    if (namespace.length) out.push("values", namespace, values);
    else this.held = out.make("values", namespace, values);
  }

  private onUpdates(out: Emitter, namespace: string[], data: unknown) {
    this.ensureStarted(out);
    if (!data || typeof data !== "object") return;
    for (const [node, update] of Object.entries(data as Data)) {
      if (node === "__interrupt__") {
        if (!namespace.length) this.hitlInterrupt = true;
        this.requestInputs(out, namespace, update);
        continue;
      }
      // A node's output is where its messages are complete: close their content blocks first.
      for (const message of messagesInUpdate({ [node]: update })) this.finishMessage(out, message.id, message, false);
      this.toolEvents(out, namespace, node, update);
      out.push("updates", namespace, { node, values: update }, node);
    }
  }

  private requestInputs(out: Emitter, namespace: string[], interrupts: unknown) {
    for (const interrupt of Array.isArray(interrupts) ? interrupts : [interrupts]) {
      const id = typeof interrupt?.id === "string" ? interrupt.id : undefined;
      if (!id || this.requested.has(id)) continue;
      this.requested.add(id);
      out.push("input.requested", namespace, { interrupt_id: id, payload: interrupt.value });
    }
  }

  private toolEvents(out: Emitter, namespace: string[], node: string, update: unknown) {
    const messages = (update as Data | null)?.messages;
    for (const message of Array.isArray(messages) ? messages : messages ? [messages] : []) {
      if (message?.type === "ai" && Array.isArray(message.tool_calls)) {
        for (const call of message.tool_calls) {
          out.push("tools", namespace, { event: "tool-started", tool_call_id: call.id, tool_name: call.name, input: call.args }, node);
        }
      } else if (message?.type === "tool" && typeof message.tool_call_id === "string") {
        const event = message.status === "error"
          ? { event: "tool-error", tool_call_id: message.tool_call_id, message: textOf(message.content) }
          : { event: "tool-finished", tool_call_id: message.tool_call_id, output: message.content };
        out.push("tools", namespace, event, node);
      }
    }
  }

  private onMessageChunk(out: Emitter, namespace: string[], tuple: [Data, Data]) {
    this.ensureStarted(out);
    const [chunk, metadata] = Array.isArray(tuple) ? tuple : [undefined, undefined];
    const id = typeof chunk?.id === "string" ? chunk.id : undefined;
    if (!chunk || !id) return;
    const node = typeof metadata?.langgraph_node === "string" ? metadata.langgraph_node : undefined;
    let message = this.open.get(id);
    if (!message) {
      message = { namespace, node, text: "" };
      this.open.set(id, message);
      const start = { event: "message-start", id, role: roleOf(chunk.type), ...(chunk.type === "tool" ? { tool_call_id: chunk.tool_call_id } : {}) };
      out.push("messages", namespace, start, node);
      out.push("messages", namespace, { event: "content-block-start", index: 0, content: { type: "text", text: "" } }, node);
    }
    const text = textOf(chunk.content);
    if (text) {
      message.text += text;
      out.push("messages", namespace, { event: "content-block-delta", index: 0, delta: { type: "text-delta", text } }, node);
    }
    // A message that is not an AI chunk arrives whole (a tool result, an echoed input): it is complete now.
    if (chunk.type !== "ai") this.finishMessage(out, id, chunk, false);
  }

  private finishMessage(out: Emitter, id: string | undefined, final: Data | undefined, partial: boolean) {
    const message = id ? this.open.get(id) : undefined;
    if (!message || !id) return;
    this.open.delete(id);
    const text = final && typeof final.content !== "undefined" && !partial ? textOf(final.content) || message.text : message.text;
    out.push("messages", message.namespace, { event: "content-block-finish", index: 0, content: { type: "text", text } }, message.node);
    const usage = final?.usage_metadata;
    out.push(
      "messages",
      message.namespace,
      { event: "message-finish", ...(usage ? { usage } : {}), ...(partial ? { reason: "cancelled", partial: true } : {}) },
      message.node,
    );
  }

  private finishOpenMessages(out: Emitter, partial: boolean) {
    for (const id of [...this.open.keys()]) this.finishMessage(out, id, undefined, partial);
  }

  private onEnd(out: Emitter, end: Data) {
    this.ensureStarted(out);
    const status = String(end?.status ?? "error");
    // Whatever is still open at the end was cut off (a stop, a timeout, a failure): finished and marked partial.
    this.finishOpenMessages(out, status !== "success");
    this.pushTerminal(out, status, end?.error?.message ?? this.lastError);
  }

  private pushTerminal(out: Emitter, status: string, error: string | undefined) {
    this.terminal = true;
    const event = status === "success" ? (this.hitlInterrupt ? "interrupted" : "completed") : status === "interrupted" ? "interrupted" : "failed";
    const data: Data = { event, graph_name: this.run.graph_id };
    if (event === "failed") data.error = error ?? (status === "timeout" ? "run timed out" : "run failed");
    out.push("lifecycle", [], data);
  }

  /** @internal */
  get runId(): string {
    return this.run.run_id;
  }
}

/** Collects the events made from one journal entry, numbering them. */
class Emitter {
  readonly events: V2Event[] = [];
  private readonly timestamp: number;
  private made = 0;

  constructor(private readonly translator: RunTranslator, private readonly entry: JournalEntry) {
    // The entry id's time part is when Redis stored it: durable, unlike the time of this translation.
    const ms = Number(entry.id.split("-")[0]);
    this.timestamp = Number.isFinite(ms) ? ms : 0;
  }

  /** An event of this entry, its id fixed now, its seq given when it is released. */
  make(method: string, namespace: string[], data: unknown, node?: string): V2Event {
    return {
      type: "event",
      event_id: eventIdOf(this.translator.runId, this.entry.id, this.made++),
      seq: 0,
      method,
      params: { namespace, timestamp: this.timestamp, ...(node ? { node } : {}), data },
    };
  }

  push(method: string, namespace: string[], data: unknown, node?: string) {
    this.release(this.make(method, namespace, data, node));
  }

  /** Emits an event (possibly made from an earlier entry) with the next seq of the run. */
  release(event: V2Event) {
    event.seq = this.translator.nextSeq();
    this.events.push(event);
  }
}

function roleOf(type: unknown): string {
  if (type === "human" || type === "system" || type === "tool") return type;
  return "ai";
}

/** The text of a message's content (a string, or the `text` parts of a list). */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (typeof part === "string" ? part : part?.type === "text" && typeof part.text === "string" ? part.text : "")).join("");
}

/** LangGraph's `checkpoints` stream payload → the protocol's envelope `{id, parent_id?, step, source}`. */
function checkpointEnvelope(payload: Data): Data {
  const id = payload?.config?.configurable?.checkpoint_id;
  const parent = payload?.parent_config?.configurable?.checkpoint_id ?? payload?.parentConfig?.configurable?.checkpoint_id;
  return {
    id,
    ...(parent ? { parent_id: parent } : {}),
    step: typeof payload?.metadata?.step === "number" ? payload.metadata.step : 0,
    source: payload?.metadata?.source ?? "loop",
  };
}
