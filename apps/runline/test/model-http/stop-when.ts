import type { FakeReply } from "@runline/testing";
import { cancel, newThread, startLiveRun, type LiveRun } from "../cancel-helpers";
import type { ModelHttpRig } from "./model-http-helpers";

export interface StopWhenOptions {
  /** The user's message (ignored when `run` carries its own `input` or a `command`). */
  text: string;
  run: Record<string, unknown>;
  /** What the fake model answers, request by request. */
  replies: FakeReply[];
  /** The stop point, checked after every frame subscribers received. */
  ready(live: LiveRun): boolean;
  /** An existing thread. @defaultValue a new one */
  threadId?: string;
}

/**
 * Starts a run, cancels it (`wait=1`) once `ready` holds for what subscribers saw, and reads the stream to its
 * end. Returns the cancel's answer and the thread's state after it.
 */
export async function stopWhen(rig: ModelHttpRig, options: StopWhenOptions) {
  rig.fake.enqueue(...options.replies);
  const threadId = options.threadId ?? (await newThread(rig.t));
  const live = await startLiveRun(rig.t, threadId, options.text, options.run);
  if (!options.ready(live)) await live.readUntil(() => options.ready(live));
  const res = await cancel(rig.t, live);
  expect(res.body.outcome).toBe("cancelled");
  await live.readToEnd();
  const state = (await rig.t.api.get(`/threads/${threadId}/state`)).body;
  return { threadId, live, res, state };
}
