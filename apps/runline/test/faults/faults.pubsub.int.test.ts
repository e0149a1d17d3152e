import Redis from "ioredis";
import { cancel, newThread, slowStory, startLiveRun } from "../cancel-helpers";
import { auditRun, startFaultRig, type FaultRig } from "./fault-rig";

// Pub/sub is not a record: a cancel published while the worker's subscriber reconnects is gone. The recorded
// intent in Postgres must still stop the run, and a `wait=1` cancel must still see the end.
let rig: FaultRig;
let admin: Redis;

beforeAll(async () => {
  rig = await startFaultRig("faults-pubsub", { role: "all", privateRedis: {} });
  admin = new Redis(rig.redis!.url);
});
afterAll(async () => {
  await admin.quit();
  await rig.close();
});

describe("the pub/sub connections dropped right before a cancel", () => {
  it.each(["wait=1", "wait=0"])("a %s cancel still stops the run with its partial saved", async (query) => {
    const threadId = await newThread(rig.runline);
    const live = await startLiveRun(rig.runline, threadId, "cut the line", { config: slowStory(150, 20) });
    await live.readTokens(5);
    // Every subscriber connection of this Redis: the worker's cancel listener and the API's journal hub.
    expect(Number(await admin.client("KILL", "TYPE", "pubsub"))).toBeGreaterThanOrEqual(2);
    const res = await cancel(rig.runline, live, `${query}&action=interrupt`);
    expect(res.status).toBe(query === "wait=1" ? 200 : 202);
    if (query === "wait=1") expect(res.body).toMatchObject({ outcome: "cancelled", status: "interrupted" });
    await live.readToEnd();
    const end = live.frames[live.frames.length - 1].data;
    expect(end.status).toBe("interrupted");
    expect(end.partial.token_count).toBeGreaterThan(0);
    expect(end.partial.token_count).toBeLessThan(150);
    const audit = await auditRun(rig.ns, threadId, live.runId);
    expect(audit).toMatchObject({ status: "interrupted", ends: 1, afterEnd: 0 });
    const state = (await rig.runline.api.get(`/threads/${threadId}/state`)).body;
    expect(state.values.messages[1].content).toBe(audit.lastMessageText);
  });
});
