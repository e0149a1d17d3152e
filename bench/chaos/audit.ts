import { publicThreadId, threadKey } from "@runline/core";
import { auditJournal, readRange } from "@runline/journal";
import type { TestNamespace } from "@runline/testing";
import { lastAiText, type Api, type RunRef } from "./api";
import type { SubscriberLog } from "./subscribers";

/** What one run left behind: its row, its journal as a subscriber would read it, and the thread it wrote. */
export interface RunAudit extends RunRef {
  status: string;
  attempt: number;
  finishedAt: string | null;
  cancelRequested: boolean;
  cancelAction: string | null;
  partialTokens: number | null;
  /** The run's `error.error` (e.g. `WorkerLost`), if it has one. */
  error: string | null;
  /** Journal entries in all, and `end` entries among them (must be exactly 1). */
  entries: number;
  ends: number;
  /** Entries stored after the first `end` (must be 0). */
  afterEnd: number;
  /** Tokens of a message first streamed by attempt k that arrived after attempt k+1's `metadata`: two executions at once. */
  interleaved: number;
  /** Checkpoints written after `finished_at`, before the thread's next run started (see {@link checkpointsAfterEnd}). */
  checkpointsAfterEnd: number;
  /** Whether no later run exists on the thread (only then is the thread head this run's doing). */
  lastOfThread: boolean;
  /** Text of the last message the journal streamed (the last attempt's, in journal order). */
  streamedText: string;
  /** Thread head vs stream: checked for the last run of a thread that ended `success` (or `interrupted` with a partial kept on the head). */
  state: "match" | "mismatch" | "unchecked";
  stateDetail?: string;
  /** The journal compressed to event runs, e.g. `metadata{1} messages×40 metadata{2} messages×300 values end`. */
  journal: string;
  subscriber?: { exact: boolean; detail: string };
}

export interface ThreadAudit {
  threadId: string;
  status: string;
  activeRuns: number;
  /** `busy` with nothing pending or running: nothing will ever free it. */
  stuck: boolean;
  /** For a thread whose runs all succeeded: the head holds 2 messages per run (question, answer); else null. */
  messagesOk: boolean | null;
  messageDetail?: string;
}

/** A run worth reading in full: it missed a target (or did not even end). */
export function isFlagged(run: RunAudit): boolean {
  const ended = !["pending", "running", "missing"].includes(run.status);
  return !ended || run.interleaved > 0 || run.afterEnd > 0 || run.checkpointsAfterEnd > 0 || run.ends !== 1 || run.state === "mismatch" || (run.cancelRequested && run.status === "success") || run.subscriber?.exact === false;
}

export async function auditRuns(
  ns: TestNamespace,
  api: Api,
  refs: RunRef[],
  subscribers: Map<string, SubscriberLog>,
  externallyWritten: Set<string> = new Set(),
): Promise<{ runs: RunAudit[]; threads: ThreadAudit[] }> {
  const { rows } = await ns.pool.query(
    `SELECT run_id, thread_id, status, attempt, finished_at, cancel_requested_at, cancel_action, partial, error FROM runs WHERE run_id = ANY($1::text[])`,
    [refs.map((r) => r.runId)],
  );
  const byId = new Map(rows.map((r: any) => [r.run_id, r]));
  const threadIds = [...new Set(refs.map((r) => r.threadId))];
  const { rows: lastRows } = await ns.pool.query(
    `SELECT DISTINCT ON (thread_id) thread_id, run_id FROM runs WHERE thread_id = ANY($1::text[]) ORDER BY thread_id, created_at DESC, run_id DESC`,
    [threadIds.map(storageKey)],
  );
  const lastRun = new Map(lastRows.map((r: any) => [publicThreadId(r.thread_id), r.run_id]));
  const heads = new Map<string, { values: any; error?: string }>();
  await forEachLimit(threadIds, 8, async (threadId) => {
    const res = await api.request("GET", `/threads/${threadId}/state`, undefined, 15_000);
    heads.set(threadId, res.status === 200 ? { values: res.body?.values } : { values: null, error: `GET state: ${res.status} ${res.error ?? ""}` });
  });
  const runs: RunAudit[] = [];
  await forEachLimit(refs, 8, async (ref) => {
    const row = byId.get(ref.runId);
    const { countedIds, shape: _shape, lastMessageText: _text, ...journal } = await readJournal(ns, ref.runId);
    const lastOfThread = lastRun.get(ref.threadId) === ref.runId;
    const audit: RunAudit = {
      ...ref,
      status: row?.status ?? "missing",
      attempt: row?.attempt ?? 0,
      finishedAt: row?.finished_at ? new Date(row.finished_at).toISOString() : null,
      cancelRequested: Boolean(row?.cancel_requested_at),
      cancelAction: row?.cancel_action ?? null,
      partialTokens: row?.partial?.token_count ?? null,
      error: row?.error?.error ?? null,
      ...journal,
            // A thread the scenario itself writes to (state updates) has no quiet window between its runs.
      checkpointsAfterEnd: row?.finished_at && (lastOfThread || !externallyWritten.has(ref.threadId)) ? await checkpointsAfterEnd(ns, ref, row.finished_at) : 0,
      lastOfThread,
      state: "unchecked",
    };
    compareState(audit, heads.get(ref.threadId)!);
    const sub = subscribers.get(ref.runId);
    if (sub) audit.subscriber = compareSubscriber(sub, countedIds);
    runs.push(audit);
  });
  const threads = await auditThreads(ns, threadIds, runs, heads, externallyWritten);
  return { runs, threads };
}

/** The run's journal, replayed by the same audit the fault tests use. */
async function readJournal(ns: TestNamespace, runId: string) {
  const entries = [];
  for await (const entry of readRange(ns.redis, ns.redisPrefix, runId)) entries.push(entry);
  const audit = auditJournal(entries);
  return { ...audit, streamedText: audit.lastMessageText, journal: runLength(audit.shape) };
}

/**
 * Checkpoints of the thread stamped after the run's `finished_at` and before the thread's next run started
 * (any time after, for the thread's last run): nothing may write the thread in that window. Later runs
 * legitimately write later checkpoints, and LangGraph (1.7) keeps no run id in checkpoint metadata (only
 * `step`, `source`, `parents`), so the window is what attributes a checkpoint to this run. The stamp (`ts`)
 * is the writer's clock and `finished_at`/`started_at` Postgres's, on the same machine here.
 */
async function checkpointsAfterEnd(ns: TestNamespace, ref: RunRef, finishedAt: Date): Promise<number> {
  const { rows } = await ns.pool.query(
    `WITH next AS (SELECT min(started_at) AS started FROM runs WHERE thread_id = $1 AND run_id <> $2 AND started_at > $3)
     SELECT count(*)::int AS n FROM checkpoints c, next
      WHERE c.thread_id = $1 AND (c.checkpoint->>'ts')::timestamptz > $3
        AND (next.started IS NULL OR (c.checkpoint->>'ts')::timestamptz < next.started)`,
    [storageKey(ref.threadId), ref.runId, finishedAt],
  );
  return rows[0].n;
}

/** The head's last AI message must be what subscribers were streamed, for the run that put it there. */
function compareState(audit: RunAudit, head: { values: any; error?: string }): void {
  const keptPartial = audit.status === "interrupted" && audit.cancelAction !== "rollback" && (audit.partialTokens ?? 0) > 0;
  if (!audit.lastOfThread || !(audit.status === "success" || keptPartial)) return;
  if (head.error) {
    audit.state = "mismatch";
    audit.stateDetail = head.error;
    return;
  }
  const headText = lastAiText(head.values);
  audit.state = headText === audit.streamedText ? "match" : "mismatch";
  if (audit.state === "mismatch") audit.stateDetail = `head ${JSON.stringify(clip(headText))} vs streamed ${JSON.stringify(clip(audit.streamedText))}`;
}

/** Exactly once, in order, nothing missing: the subscriber's ids are the journal's `messages` + `end` ids. */
function compareSubscriber(sub: SubscriberLog, journalIds: string[]): { exact: boolean; detail: string } {
  const exact = sub.ends === 1 && sub.ids.length === journalIds.length && sub.ids.every((id, i) => id === journalIds[i]);
  const got = new Set(sub.ids);
  const missing = journalIds.filter((id) => !got.has(id));
  // Stream ids are `<ms>-<seq>`: the missing ones' stamps say when, to line them up with the fault.
  const when = (id: string) => new Date(Number(id.split("-")[0])).toISOString().slice(11, 23);
  const gap = missing.length ? `, missing ${missing.length} stamped ${when(missing[0])}–${when(missing[missing.length - 1])}` : "";
  return {
    exact,
    detail: `${sub.ids.length} frames (${sub.ids.length - got.size} duplicates) vs ${journalIds.length} in the journal${gap}, ${sub.ends} end, ${sub.reconnects} reconnects${sub.lastError ? `, last error ${sub.lastError}` : ""}`,
  };
}

async function auditThreads(
  ns: TestNamespace,
  threadIds: string[],
  runs: RunAudit[],
  heads: Map<string, { values: any }>,
  externallyWritten: Set<string>,
): Promise<ThreadAudit[]> {
  const { rows } = await ns.pool.query(
    `SELECT t.thread_id, t.status,
            (SELECT count(*)::int FROM runs r WHERE r.thread_id = t.thread_id AND r.status IN ('pending', 'running')) AS active,
            (SELECT count(*)::int FROM runs r WHERE r.thread_id = t.thread_id) AS total
       FROM threads t WHERE t.thread_id = ANY($1::text[])`,
    [threadIds.map(storageKey)],
  );
  return rows.map((t: any) => {
    const threadId = publicThreadId(t.thread_id);
    const mine = runs.filter((r) => r.threadId === threadId);
    const allSuccess = !externallyWritten.has(threadId) && mine.length === t.total && mine.every((r) => r.status === "success");
    const count = heads.get(threadId)?.values?.messages?.length;
    const messagesOk = allSuccess ? count === 2 * t.total : null;
    return {
      threadId,
      status: t.status,
      activeRuns: t.active,
      stuck: t.status === "busy" && t.active === 0,
      messagesOk,
      messageDetail: messagesOk === false ? `${count} messages on the head for ${t.total} successful runs (expected ${2 * t.total})` : undefined,
    };
  });
}

/** How the tables name a chaos thread: the suite runs as the single tenant (no API keys). */
export function storageKey(threadId: string): string {
  return threadKey("default", threadId);
}

function runLength(events: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < events.length; ) {
    let j = i;
    while (j < events.length && events[j] === events[i]) j++;
    out.push(j - i > 1 ? `${events[i]}×${j - i}` : events[i]);
    i = j;
  }
  return out.join(" ");
}

function clip(text: string, n = 80): string {
  return text.length > n ? `${text.slice(0, 40)}…${text.slice(-40)} (${text.length} chars)` : text;
}

export async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}
