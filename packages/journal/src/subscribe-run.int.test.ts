import { createTestNamespace, waitFor, type TestNamespace } from "@runline/testing";
import type { Redis } from "ioredis";
import type { JournalEntry } from "./entry";
import { createJournalHub, type JournalHub } from "./journal-hub";
import { createJournalWriter, type JournalWriter } from "./journal-writer";
import { journalKeys } from "./keys";
import { subscribeRun, type SubscribeRunOptions } from "./subscribe-run";
import { collect, describeEntries, expectedEvents, numSub, strictlyIncreasing, writeRun } from "./test-support";

let ns: TestNamespace;
let hub: JournalHub;
let writer: JournalWriter;
let runSeq = 0;
const nextRunId = () => `${ns.id}-run-${++runSeq}`;
const subscribe = (runId: string, extra: Partial<SubscribeRunOptions> = {}) =>
  subscribeRun({ redis: ns.redis, hub, prefix: ns.redisPrefix, runId, ...extra });

beforeAll(async () => {
  ns = await createTestNamespace("journal-subscribe");
  hub = createJournalHub(ns.redis, ns.redisPrefix, { connectionName: `${ns.id}:hub` });
  writer = createJournalWriter(ns.redis, ns.redisPrefix);
});

afterAll(async () => {
  await hub.close();
  await ns.cleanup();
});

function expectWholeRun(entries: JournalEntry[], n: number) {
  expect(describeEntries(entries)).toEqual(expectedEvents(n));
  expect(strictlyIncreasing(entries)).toBe(true);
}

describe("subscribeRun delivers every event exactly once, in order, ending with end", () => {
  const N = 200;

  it("when it joins before the first event", async () => {
    const runId = nextRunId();
    const received = collect(subscribe(runId));
    // The subscriber is live once its channel is subscribed; only then start the run.
    await waitFor(async () => (await numSub(ns.redis, journalKeys(ns.redisPrefix).live(runId))) === 1);
    await writeRun(writer, runId, N);
    expectWholeRun(await received, N);
  });

  it("when it joins mid-run", async () => {
    const runId = nextRunId();
    let received!: Promise<JournalEntry[]>;
    await writeRun(writer, runId, N, {
      [N / 2]: () => {
        received = collect(subscribe(runId)); // not awaited: it ends only with the run
      },
    });
    expectWholeRun(await received, N);
  });

  it("when many join at different points of a run that keeps writing", async () => {
    const runId = nextRunId();
    const subscribers: Promise<JournalEntry[]>[] = [];
    const join = () => subscribers.push(collect(subscribe(runId)));
    await writeRun(writer, runId, N, { 0: join, 1: join, 17: join, 99: join, 150: join, [N - 1]: join, [N]: join });
    for (const received of await Promise.all(subscribers)) expectWholeRun(received, N);
  });

  it("when it joins after the end", async () => {
    const runId = nextRunId();
    await writeRun(writer, runId, N);
    expectWholeRun(await collect(subscribe(runId)), N);
  });

  it("when it reconnects mid-run with the last id it saw (Last-Event-ID)", async () => {
    const runId = nextRunId();
    let first!: Promise<JournalEntry[]>;
    let resumed!: Promise<JournalEntry[]>;
    await writeRun(writer, runId, N, {
      20: () => {
        first = collect(subscribe(runId), 30); // disconnects after 30 entries
      },
      120: async () => {
        const seen = await first;
        resumed = collect(subscribe(runId, { lastEventId: seen[seen.length - 1]!.id }));
      },
    });
    const seen = await first;
    expect(seen).toHaveLength(30);
    expectWholeRun([...seen, ...(await resumed)], N);
  });

  it("when it resumes after the end from any id, including ms-only and '-1'", async () => {
    const runId = nextRunId();
    await writeRun(writer, runId, 10);
    const all = await collect(subscribe(runId));
    expect(describeEntries(await collect(subscribe(runId, { lastEventId: all[4]!.id })))).toEqual(expectedEvents(10).slice(5));
    expect(await collect(subscribe(runId, { lastEventId: all[all.length - 1]!.id, isFinished: async () => true, finishGraceMs: 0 }))).toEqual([]);
    expect(describeEntries(await collect(subscribe(runId, { lastEventId: "-1" })))).toEqual(expectedEvents(10));
    const ms = all[3]!.id.split("-")[0]!;
    const afterMs = await collect(subscribe(runId, { lastEventId: ms }));
    expect(afterMs.every((e) => e.id !== `${ms}-0`)).toBe(true);
  });

  it("rejects a malformed Last-Event-ID synchronously with a 400 ValidationError", () => {
    expect(() => subscribe(nextRunId(), { lastEventId: "abc" })).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe("subscribeRun edge cases", () => {
  it.each([
    ["mid-backlog (end is read from the stream and also arrives live)", (page: unknown[]) => page.length > 0],
    ["after the last page (end arrives only live)", (page: unknown[]) => page.length < 2],
  ])("yields an end appended %s exactly once", async (_, endAfter) => {
    const runId = nextRunId();
    await writer.append(runId, "metadata", {});
    for (let i = 0; i < 5; i++) await writer.append(runId, "values", { i });
    // Hook the paged XRANGE (pages after the first) to end the run at an exact point of the backlog read.
    let ended = false;
    const hooked = new Proxy(ns.redis, {
      get(target, prop) {
        if (prop === "xrange") {
          return async (...args: Parameters<Redis["xrange"]>) => {
            const page = await target.xrange(...args);
            if (!ended && endAfter(page)) {
              ended = true;
              await writer.end(runId, {});
            }
            return page;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const received = await collect(subscribeRun({ redis: hooked, hub, prefix: ns.redisPrefix, runId, pageSize: 2 }));
    expect(ended).toBe(true);
    expectWholeRun(received, 5);
  });

  it("ends without end when isFinished says the run is over and there is no stream", async () => {
    const runId = nextRunId();
    const isFinished = jest.fn(async () => true);
    expect(await collect(subscribe(runId, { isFinished, finishGraceMs: 0 }))).toEqual([]);
    expect(isFinished).toHaveBeenCalledTimes(1);
    await waitFor(async () => (await numSub(ns.redis, journalKeys(ns.redisPrefix).live(runId))) === 0);
  });

  it("still delivers the tail when the run is marked finished before its end is appended", async () => {
    const runId = nextRunId();
    await writer.append(runId, "metadata", {});
    const isFinished = async () => {
      // A worker that records the status first and appends the last events a moment later.
      await writer.append(runId, "values", { i: 0 });
      await writer.end(runId, {});
      return true;
    };
    expectWholeRun(await collect(subscribe(runId, { isFinished, finishGraceMs: 5_000 })), 1);
  });

  it("keeps waiting when isFinished says the run is still going", async () => {
    const runId = nextRunId();
    let received!: Promise<JournalEntry[]>;
    await writeRun(writer, runId, 20, {
      5: () => {
        received = collect(subscribe(runId, { isFinished: async () => false }));
      },
    });
    expectWholeRun(await received, 20);
  });

  it("stops and unsubscribes when the signal aborts", async () => {
    const runId = nextRunId();
    const controller = new AbortController();
    const entries: JournalEntry[] = [];
    const done = (async () => {
      for await (const entry of subscribe(runId, { signal: controller.signal })) entries.push(entry);
    })();
    await waitFor(async () => (await numSub(ns.redis, journalKeys(ns.redisPrefix).live(runId))) === 1);
    await writer.append(runId, "metadata", {});
    await waitFor(() => entries.length === 1);
    controller.abort(); // the iterator is parked waiting for live entries: abort must wake it
    await done;
    await waitFor(async () => (await numSub(ns.redis, journalKeys(ns.redisPrefix).live(runId))) === 0);
    expect(await collect(subscribe(runId, { signal: controller.signal }))).toEqual([]);
  });
});
