import { isTerminal, mintThreadId, openEvents, readUntil, startRun } from "../protocol-v2-helpers";
import { startFaultRig, type FaultRig } from "./fault-rig";

// A v2 subscriber while the worker streaming its run is killed: the run restarts on another worker and the
// subscriber sees one terminal lifecycle, derived from the journal's one `end`.
let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig("faults-protocol-v2", { role: "api" });
});
afterAll(() => rig.close());

describe("protocol v2 across a crash takeover", () => {
  it("the lost attempt's message is finished as partial, the run runs again, and ends with exactly one completed", async () => {
    const first = await rig.spawnWorker();
    const threadId = mintThreadId(rig.runline);
    const stream = await openEvents(rig.runline, threadId, { channels: ["lifecycle", "messages"] });
    await startRun(rig.runline, threadId, "nine lives", { config: { configurable: { story_tokens: 40, story_token_delay_ms: 40 } } });
    const before = await readUntil(stream, (_e, all) => all.filter((e) => e.params.data.event === "content-block-delta").length >= 4);
    await first.kill("SIGKILL");
    await rig.spawnWorker();
    const after = await readUntil(stream, isTerminal, 60_000);
    stream.close();
    const events = [...before, ...after];
    const lifecycle = events.filter((e) => e.method === "lifecycle").map((e) => e.params.data.event);
    expect(lifecycle).toEqual(["started", "running", "running", "completed"]);
    const finishes = events.filter((e) => e.method === "messages" && e.params.data.event === "message-finish").map((e) => e.params.data.partial ?? false);
    expect(finishes).toEqual([true, false]);

    // A reconnect replays the same events, numbered the same.
    const again = await openEvents(rig.runline, threadId, { channels: ["lifecycle", "messages"] });
    const replayed = await readUntil(again, isTerminal);
    again.close();
    expect(replayed.map((e) => [e.event_id, e.seq])).toEqual(events.map((e) => [e.event_id, e.seq]));
  });
});
