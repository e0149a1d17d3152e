import { END_EVENT } from "./entry";

/** What a run's stored journal says about how the run went (fault tests and `npm run chaos` check it). */
export interface JournalAudit {
  entries: number;
  /** `end` entries: exactly 1 for a finished run. */
  ends: number;
  /** Entries stored after the first `end`: must be 0. */
  afterEnd: number;
  /** Tokens of a message begun by an earlier attempt, stored after a later attempt's `metadata`: two executions streaming at once. */
  interleaved: number;
  /** The text of the last message streamed, in journal order. */
  lastMessageText: string;
  /** Ids of the `messages` and `end` entries, in order (what a subscriber of those events must receive). */
  countedIds: string[];
  /** Event names in order, `metadata{attempt}` and `end{status}` spelled out. */
  shape: string[];
}

/** Replays a run's journal entries (`[id, event, dataJson]`, as stored) into a {@link JournalAudit}. */
export function auditJournal(entries: Array<{ id: string; event: string; dataJson: string }>): JournalAudit {
  let attempt = 0;
  let ends = 0;
  let afterEnd = 0;
  let interleaved = 0;
  const attemptOfMessage = new Map<string, number>();
  const textOf = new Map<string, string>();
  let lastMessage: string | null = null;
  const countedIds: string[] = [];
  const shape: string[] = [];
  for (const { id, event, dataJson } of entries) {
    let data: any = null;
    try {
      data = JSON.parse(dataJson);
    } catch {
      /* a torn entry still counts as an entry; its data is not needed */
    }
    if (ends > 0) afterEnd++;
    if (event === "messages" || event === END_EVENT) countedIds.push(id);
    if (event === END_EVENT) ends++;
    else if (event === "metadata") attempt = Math.max(attempt, Number(data?.attempt ?? attempt));
    else if (event === "messages") {
      const messageId = String(data?.[0]?.id);
      if (!attemptOfMessage.has(messageId)) attemptOfMessage.set(messageId, attempt);
      else if (attemptOfMessage.get(messageId)! < attempt) interleaved++;
      textOf.set(messageId, (textOf.get(messageId) ?? "") + String(data?.[0]?.content ?? ""));
      lastMessage = messageId;
    }
    shape.push(event === "metadata" ? `metadata{${data?.attempt ?? "?"}}` : event === END_EVENT ? `end{${data?.status ?? "?"}}` : event);
  }
  return { entries: entries.length, ends, afterEnd, interleaved, lastMessageText: lastMessage ? textOf.get(lastMessage)! : "", countedIds, shape };
}
