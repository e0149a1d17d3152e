import { waitFor, type FakeReply } from "@runline/testing";
import { cancel, newThread, startLiveRun, type LiveRun } from "../cancel-helpers";
import { toolEvents } from "../fixtures/tool-agent.graph";
import type { ModelHttpRig } from "./model-http-helpers";

export interface StopWhenOptions {
  /** The user's message (ignored when `run` carries its own `input` or a `command`). */
  text: string;
  run: Record<string, unknown>;
  /** What the fake model answers, request by request. */
  replies: FakeReply[];
  /** The stop point, checked after every frame subscribers received. */
  ready?(live: LiveRun): boolean;
  /** A stop point subscribers cannot see (a tool started): awaited instead of `ready`. */
  until?(): Promise<unknown>;
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
  const ready = options.ready;
  if (options.until) await options.until();
  else if (ready && !ready(live)) await live.readUntil(() => ready(live));
  const res = await cancel(rig.t, live);
  expect(res.body.outcome).toBe("cancelled");
  await live.readToEnd();
  const state = (await rig.t.api.get(`/threads/${threadId}/state`)).body;
  return { threadId, live, res, state };
}

let toolCalls = 0;

/**
 * Starts `run` (a graph with the tool agent in it), whose model calls `slow_lookup`, and cancels it while the
 * tool runs. The tool must have received the abort signal.
 */
export async function stopWhileToolRuns(rig: ModelHttpRig, text: string, run: Record<string, unknown>) {
  const callId = `call_slow_${rig.t.ns.id}_${++toolCalls}`;
  const stopped = await stopWhen(rig, {
    text,
    run,
    replies: [{ kind: "stream", tokens: ["Checking"], toolCalls: [{ id: callId, name: "slow_lookup", args: '{"query":"tides"}' }] }],
    until: () => waitFor(() => toolEvents.started.has(callId), { what: "the tool to start" }),
  });
  expect(toolEvents.aborted.has(callId)).toBe(true);
  return { callId, ...stopped };
}
