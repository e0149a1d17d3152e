import { encodeEventData, isTransientError } from "@runline/core";
import { replyPromise, type ReplyCallback, type ScriptReply as Reply } from "./journal-batch";
import { JournalFencedError, type AttemptJournal, type JournalRefusal } from "./journal-fence";

interface Pending {
  seq: number;
  event: string;
  json: string;
  settled: boolean;
  /** Set when the caller awaits this append ({@link AttemptJournal.append}); a pushed one has none. */
  waiter?: { resolve(id: string): void; reject(err: unknown): void };
}

export interface AttemptJournalOptions {
  runId: string;
  attempt: number;
  /**
   * Sends one append through the fence script, whose answer is `OK` (stored), `DUP` (stored before) or `GAP` (an
   * earlier one is missing), or `FENCED`/`ENDED`.
   */
  send(event: string, json: string, seq: number, mode: "0" | "2", done: ReplyCallback): void;
  onRefused?: (refusal: JournalRefusal) => void;
  /** Longest appends are re-sent through a Redis outage. @defaultValue 60_000 */
  resendForMs?: number;
}

/**
 * One attempt's journal: an ordered, exactly-once channel over a connection that may drop. Every append has
 * the next sequence number; the fence script stores only the one that follows the last stored (`GAP` for a
 * later one, `DUP` for one already stored). When a send fails for a transient reason (ioredis aborts
 * in-flight pipelined commands when the connection closes), the appends not yet acknowledged are re-sent in
 * order once Redis answers again: an outage costs delay, never a lost, doubled or reordered token.
 */
export function createAttemptJournal(options: AttemptJournalOptions): AttemptJournal {
  const { runId, attempt } = options;
  const pending: Pending[] = [];
  let nextSeq = 0;
  let bytesAppended = 0;
  let refused: JournalRefusal | null = null;
  let failure: { error: unknown } | null = null;
  let resending: Promise<void> | null = null;
  /** What `flush` calls waited for: called once nothing is pending. */
  let drained: Array<() => void> = [];

  const sendAsync = (event: string, json: string, seq: number, mode: "0" | "2") => replyPromise((done) => options.send(event, json, seq, mode, done));
  const remove = (item: Pending) => {
    item.settled = true;
    // Replies come in order, so this is nearly always the first (and -1 only for a reply before it was queued).
    const at = pending.indexOf(item);
    if (at >= 0) pending.splice(at, 1);
    if (!pending.length && drained.length) {
      const waiting = drained;
      drained = [];
      for (const wake of waiting) wake();
    }
  };
  const settle = (item: Pending, id: string) => {
    if (item.settled) return;
    remove(item);
    item.waiter?.resolve(id);
  };
  const fail = (item: Pending, error: unknown) => {
    if (item.settled) return;
    failure ??= { error };
    remove(item);
    item.waiter?.reject(error);
  };
  const refuse = (refusal: JournalRefusal) => {
    if (!refused) {
      refused = refusal;
      options.onRefused?.(refusal);
    }
    for (const item of [...pending]) fail(item, new JournalFencedError(runId, refusal));
  };
  /** Applies a reply; false when the item must be sent again (an earlier one was missing). */
  const apply = (item: Pending, [status, id]: Reply): boolean => {
    if (status === "ENDED") refuse("ended");
    else if (status === "FENCED") refuse("superseded");
    else if (status === "GAP") return false;
    else settle(item, id ?? "");
    return true;
  };

  /**
   * Re-sends every unacknowledged append, in order, in one pipelined round, until all are acknowledged. A
   * round that fails for a transient reason waits and goes again; one that makes no progress without any
   * error means the fence lost its place (Redis lost its data) and the appends cannot be ordered any more.
   */
  function resend(): Promise<void> {
    resending ??= (async () => {
      const deadline = Date.now() + (options.resendForMs ?? 60_000);
      let delayMs = 50;
      while (pending.length && !refused) {
        const round = [...pending];
        const replies = await Promise.allSettled(round.map((item) => sendAsync(item.event, item.json, item.seq, "0")));
        let transient: unknown = null;
        replies.forEach((reply, k) => {
          if (round[k].settled) return;
          if (reply.status === "fulfilled") apply(round[k], reply.value);
          else if (isTransientError(reply.reason)) transient ??= reply.reason;
          else fail(round[k], reply.reason);
        });
        const progressed = round.some((item) => item.settled);
        if (!transient && !progressed) {
          for (const item of [...pending]) fail(item, new Error(`journal of run ${runId} lost its place before append ${item.seq}`));
        } else if (transient) {
          if (Date.now() + delayMs > deadline) for (const item of [...pending]) fail(item, transient);
          else await new Promise((resolve) => setTimeout(resolve, delayMs));
          delayMs = Math.min(delayMs * 2, 1000);
        }
      }
    })().finally(() => (resending = null));
    return resending;
  }

  /** Queues one append; null once the fence refused this attempt (nothing is sent). */
  function enqueue(event: string, data: unknown): Pending | null {
    if (refused) return null;
    const json = encodeEventData(data);
    const item: Pending = { seq: nextSeq + 1, event, json, settled: false };
    // Sent before it is counted: a send that throws (a bad event name) leaves no gap in the sequence and nothing
    // pending for flush to wait on. A reply that came back synchronously leaves nothing pending either.
    options.send(event, json, item.seq, "0", (error, reply) => {
      if (error) {
        if (isTransientError(error)) void resend();
        else fail(item, error);
      } else if (!apply(item, reply!)) void resend();
    });
    nextSeq = item.seq;
    bytesAppended += event.length + json.length;
    if (!item.settled) pending.push(item);
    return item;
  }

  return {
    runId,
    attempt,
    get bytesAppended() {
      return bytesAppended;
    },
    async claim() {
      const [status] = await sendAsync("claim", "null", 0, "2");
      if (status === "ENDED" || status === "FENCED") {
        refuse(status === "ENDED" ? "ended" : "superseded");
        throw new JournalFencedError(runId, refused!);
      }
    },
    push(event, data) {
      // Refused: nobody awaits this one, so the next flush reports it.
      if (!enqueue(event, data)) failure ??= { error: new JournalFencedError(runId, refused!) };
    },
    append(event, data) {
      const item = enqueue(event, data);
      if (!item) {
        const rejected = Promise.reject(new JournalFencedError(runId, refused!));
        rejected.catch(() => undefined);
        return rejected;
      }
      const appended = new Promise<string>((resolve, reject) => (item.waiter = { resolve, reject }));
      // Fire-and-forget callers learn of failures at flush (and through onRefused).
      appended.catch(() => undefined);
      return appended;
    },
    async flush() {
      // Until every append so far is acknowledged (re-sends included).
      if (pending.length) await new Promise<void>((resolve) => drained.push(resolve));
      const reported = failure;
      failure = null;
      if (reported) throw reported.error;
    },
  };
}
