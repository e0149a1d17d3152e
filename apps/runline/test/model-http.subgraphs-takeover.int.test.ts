import { startFakeOpenAIServer, waitFor, type FakeOpenAIServer } from "@runline/testing";
import { cancel, newThread, startLiveRun } from "./cancel-helpers";
import { startFaultRig, type FaultRig } from "./faults/fault-rig";
import { continueAndCheck } from "./model-http/continue-run";
import { modelHttpEnv, words } from "./model-http/model-http-helpers";

let fake: FakeOpenAIServer;
let rig: FaultRig;
beforeAll(async () => {
  fake = await startFakeOpenAIServer();
  // Workers only as processes, so one can be killed mid-run.
  rig = await startFaultRig("model-http-subgraphs-takeover", { role: "api", env: modelHttpEnv(fake) });
});
afterAll(async () => {
  await rig?.close();
  await fake?.close();
});

const subgraphRun = { assistant_id: "subgraph", stream_mode: ["values", "messages-tuple", "updates"], stream_subgraphs: true };

describe("takeover of a dead worker's subgraph run", () => {
  it("a cancel recorded after the worker died is finished from the journal: subgraph messages saved as on a live cancel", async () => {
    const t = rig.runline;
    const first = await rig.spawnWorker();
    fake.enqueue({ kind: "stream", tokens: ["Found", " facts"] }, { kind: "stream", tokens: words(400), delayMs: 10 });
    const threadId = await newThread(t);
    const live = await startLiveRun(t, threadId, "research then die", subgraphRun);
    const answerTokens = () => live.frames.filter((f) => f.event.startsWith("messages|research:") && f.data[1].langgraph_node === "answer");
    await live.readUntil(() => answerTokens().length >= 4);
    // LangGraph writes a step's checkpoint in the background (durability "async"): under load it can lag the
    // tokens. The partial attaches to the checkpoint that lists `research` as next, so kill only once it exists.
    await waitFor(async () => (await t.api.get(`/threads/${threadId}/state`)).body.next.includes("research"), { what: "the checkpoint before `research`" });
    await first.kill("SIGKILL");
    // No worker is alive to hear this: the next owner finds the recorded cancel and saves from the journal.
    expect((await cancel(t, live, "wait=0")).status).toBe(202);
    await rig.spawnWorker();
    await live.readToEnd();
    expect(live.frames.at(-1)!.data.status).toBe("interrupted");

    const messages = (await t.api.get(`/threads/${threadId}/state`)).body.values.messages;
    const streamed = answerTokens().map((f) => f.data[0].content).join("");
    expect(messages.map((m: any) => m.content)).toEqual(["research then die", "Found facts", streamed]);
    expect(messages[1].response_metadata.runline_partial).toBeUndefined();
    expect(messages[2].response_metadata.runline_partial).toMatchObject({ reason: "worker_lost", token_count: answerTokens().length });

    await continueAndCheck({ t, fake }, threadId, { run: subgraphRun });
  });
});
