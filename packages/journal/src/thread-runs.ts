import type { Redis } from "ioredis";
import type { JournalHub } from "./journal-hub";
import { journalKeys } from "./keys";
import { publishLive } from "./live-channel";

// "A run was created on this thread", for protocol v2 streams that follow a thread run after run. It rides the
// journal hub (one pub/sub connection per process) on a channel named like a run's, `thread.<tid>`: run ids only
// hold `A-Z a-z 0-9 _ . -` and never start with `thread.` (uuids), so it cannot collide with a run's channel.
// Pub/sub is only the fast path: a follower also re-reads the runs table whenever it parks (see its caller).

const channelRunId = (threadId: string) => `thread.${threadId}`;

/** Tells every process following `threadId` that run `runId` was created (after the create committed). */
export async function announceThreadRun(redis: Redis, prefix: string, threadId: string, runId: string): Promise<void> {
  // The hub decodes live messages as `id \n event \n json`.
  await publishLive(redis, journalKeys(prefix).live(channelRunId(threadId)), `0-0\nrun\n${JSON.stringify(runId)}`);
}

/** Calls `onRun` for every run announced on the thread from now on; resolves to the function that stops it. */
export function listenThreadRuns(hub: JournalHub, threadId: string, onRun: () => void): Promise<() => void> {
  return hub.listen(channelRunId(threadId), () => onRun());
}
