import { startLiveRun } from "../cancel-helpers";
import type { ModelHttpRig } from "./model-http-helpers";
import { assertProviderValidHistory } from "./provider-history";

export interface ContinueOptions {
  /** The run body's other fields (assistant, stream modes, input). */
  run: Record<string, unknown>;
  /** The state key holding the conversation. @defaultValue "messages" */
  key?: string;
  /** How the run must end. @defaultValue "success" */
  status?: string;
}

/**
 * "Please continue" after a stop: a new run on the thread. The provider must receive a history it accepts (the
 * fake server records the request) and the thread must be left with one too.
 */
export async function continueAndCheck(rig: Pick<ModelHttpRig, "t" | "fake">, threadId: string, options: ContinueOptions) {
  const key = options.key ?? "messages";
  const before = rig.fake.requests.length;
  rig.fake.enqueue({ kind: "stream", tokens: ["Carrying", " on"] });
  const next = await startLiveRun(rig.t, threadId, "please continue", options.run);
  const frames = await next.readToEnd();
  expect(frames.find((f) => f.event === "end")!.data.status).toBe(options.status ?? "success");
  expect(rig.fake.requests.length).toBeGreaterThan(before);
  const sent: any[] = rig.fake.requests[before].body.messages;
  assertProviderValidHistory(sent.map(fromOpenAI));
  const state = (await rig.t.api.get(`/threads/${threadId}/state`)).body;
  assertProviderValidHistory(state.values[key]);
  return { sent, state };
}

/** An OpenAI request message in the thread's (LangChain wire) form, for `assertProviderValidHistory`. */
function fromOpenAI(m: any): any {
  const type = { user: "human", assistant: "ai", tool: "tool", system: "system" }[m.role as string] ?? m.role;
  return { type, tool_call_id: m.tool_call_id, tool_calls: (m.tool_calls ?? []).map((c: any) => ({ id: c.id, name: c.function?.name })) };
}
