import { createTestNamespace, waitFor, type TestNamespace } from "@runline/testing";
import type { JournalEntry } from "./entry";
import { createJournalHub, type JournalHub } from "./journal-hub";
import { createJournalWriter, type JournalWriter } from "./journal-writer";
import { journalKeys } from "./keys";
import { subscribeRun } from "./subscribe-run";
import { clientsNamed, collect, describeEntries, expectedEvents, numSub, strictlyIncreasing, writeRun } from "./test-support";

let ns: TestNamespace;
let writer: JournalWriter;
const hubs: JournalHub[] = [];
let runSeq = 0;
const nextRunId = () => `${ns.id}-run-${++runSeq}`;
const liveChannel = (runId: string) => journalKeys(ns.redisPrefix).live(runId);
const newHub = (name: string) => {
  const hub = createJournalHub(ns.redis, ns.redisPrefix, { connectionName: `${ns.id}:${name}` });
  hubs.push(hub);
  return hub;
};

beforeAll(async () => {
  ns = await createTestNamespace("journal-hub");
  writer = createJournalWriter(ns.redis, ns.redisPrefix);
});

afterAll(async () => {
  for (const hub of hubs) await hub.close();
  await ns.cleanup();
});

describe("createJournalHub", () => {
  it("serves 20 concurrent subscribers of a run over one Redis subscriber connection", async () => {
    const duplicate = jest.spyOn(ns.redis, "duplicate");
    const hub = newHub("hub-20");
    const runId = nextRunId();
    const subscribers: Promise<JournalEntry[]>[] = [];
    await writeRun(writer, runId, 300, {
      // Ten join before the run writes anything, ten while it is writing.
      0: async () => {
        for (let k = 0; k < 10; k++) subscribers.push(collect(subscribeRun({ redis: ns.redis, hub, prefix: ns.redisPrefix, runId })));
        await waitFor(async () => (await numSub(ns.redis, liveChannel(runId))) === 1);
        const [conn, ...others] = await clientsNamed(ns.redis, `${ns.id}:hub-20`);
        expect(others).toHaveLength(0);
        expect(conn!.get("sub")).toBe("1"); // one SUBSCRIBE for ten listeners
      },
      150: () => {
        for (let k = 0; k < 10; k++) subscribers.push(collect(subscribeRun({ redis: ns.redis, hub, prefix: ns.redisPrefix, runId })));
      },
    });
    for (const received of await Promise.all(subscribers)) {
      expect(describeEntries(received)).toEqual(expectedEvents(300));
      expect(strictlyIncreasing(received)).toBe(true);
    }
    expect(duplicate).toHaveBeenCalledTimes(1);
    duplicate.mockRestore();
    expect(await clientsNamed(ns.redis, `${ns.id}:hub-20`)).toHaveLength(1);
    await waitFor(async () => (await numSub(ns.redis, liveChannel(runId))) === 0, { what: "last listener to unsubscribe" });
  });

  it("resolves listen only after Redis acknowledged the subscription", async () => {
    const hub = newHub("hub-ack");
    const runId = nextRunId();
    const seen: string[] = [];
    const unlisten = await hub.listen(runId, (e) => seen.push(e.event));
    expect(await numSub(ns.redis, liveChannel(runId))).toBe(1); // no waiting needed
    await writer.append(runId, "metadata", {});
    await waitFor(() => seen.length === 1);
    unlisten();
  });

  it("subscribes a run once however many listen, and unsubscribes when the last one leaves", async () => {
    const hub = newHub("hub-refcount");
    const runA = nextRunId();
    const runB = nextRunId();
    const [a1, a2, b1] = await Promise.all([hub.listen(runA, () => {}), hub.listen(runA, () => {}), hub.listen(runB, () => {})]);
    const [conn] = await clientsNamed(ns.redis, `${ns.id}:hub-refcount`);
    expect(conn!.get("sub")).toBe("2");
    a1();
    a1(); // idempotent: must not drop a2's reference
    b1();
    await waitFor(async () => (await numSub(ns.redis, liveChannel(runB))) === 0);
    expect(await numSub(ns.redis, liveChannel(runA))).toBe(1);
    a2();
    await waitFor(async () => (await numSub(ns.redis, liveChannel(runA))) === 0);
    // A listener joining after the channel was dropped subscribes it again.
    const again = await hub.listen(runA, () => {});
    expect(await numSub(ns.redis, liveChannel(runA))).toBe(1);
    again();
  });

  it("lets a subscriber catch up from the stream after the hub connection was killed mid-run", async () => {
    const hub = newHub("hub-kill");
    const runId = nextRunId();
    let resyncs = 0;
    const probe = await hub.listen(nextRunId(), () => {}, { onResync: () => resyncs++ });
    let received!: Promise<JournalEntry[]>;
    await writeRun(writer, runId, 100, {
      0: async () => {
        received = collect(subscribeRun({ redis: ns.redis, hub, prefix: ns.redisPrefix, runId }));
        await waitFor(async () => (await numSub(ns.redis, liveChannel(runId))) === 1);
      },
      30: async () => {
        const [conn] = await clientsNamed(ns.redis, `${ns.id}:hub-kill`);
        await ns.redis.client("KILL", "ID", conn!.get("id")!);
      },
      // Entries 30..69 are appended while the hub reconnects: their live messages may be lost.
      70: () => waitFor(() => resyncs > 0, { what: "hub to re-subscribe after the kill" }),
    });
    expect(describeEntries(await received)).toEqual(expectedEvents(100));
    probe();
  });

  it("after a reconnect, holds back a live entry that arrives before the resync: the entries missed meanwhile come first", async () => {
    // The bad interleaving on purpose: the hub's resync PING is held until an entry was published live on
    // the re-subscribed channel, after entries that were published while the hub was disconnected.
    let releasePing!: () => void;
    const pingGate = new Promise<void>((resolve) => (releasePing = resolve));
    let gated = false;
    const connection = Object.create(ns.redis);
    connection.duplicate = (opts: object) => {
      const sub = ns.redis.duplicate(opts);
      const ping = sub.ping.bind(sub);
      (sub as any).ping = async (...args: any[]) => {
        if (gated) await pingGate;
        return (ping as any)(...args);
      };
      return sub;
    };
    const hub = createJournalHub(connection, ns.redisPrefix, { connectionName: `${ns.id}:hub-gap` });
    hubs.push(hub);
    const runId = nextRunId();
    let received!: Promise<JournalEntry[]>;
    await writeRun(writer, runId, 60, {
      0: async () => {
        received = collect(subscribeRun({ redis: ns.redis, hub, prefix: ns.redisPrefix, runId }));
        await waitFor(async () => (await numSub(ns.redis, liveChannel(runId))) === 1);
      },
      20: async () => {
        gated = true;
        const [conn] = await clientsNamed(ns.redis, `${ns.id}:hub-gap`);
        await ns.redis.client("KILL", "ID", conn!.get("id")!);
        await waitFor(async () => (await numSub(ns.redis, liveChannel(runId))) === 0, { what: "hub disconnected" });
      },
      // 20..39 go out while the hub is away; before 40 it is subscribed again but not resynced.
      40: () => waitFor(async () => (await numSub(ns.redis, liveChannel(runId))) === 1, { what: "hub re-subscribed" }),
      41: () => releasePing(), // entry 40 was delivered live before the resync
    });
    expect(describeEntries(await received)).toEqual(expectedEvents(60));
  });

  it("ends parked subscribers (without end) when it closes, and rejects listen afterwards", async () => {
    const hub = newHub("hub-closed");
    const runId = nextRunId();
    const received: JournalEntry[] = [];
    const done = (async () => {
      for await (const entry of subscribeRun({ redis: ns.redis, hub, prefix: ns.redisPrefix, runId })) received.push(entry);
    })();
    await writer.append(runId, "metadata", {});
    await waitFor(() => received.length === 1); // now parked, waiting for live entries
    await hub.close();
    await done;
    expect(describeEntries(received)).toEqual(["metadata"]);
    await expect(hub.listen(nextRunId(), () => {})).rejects.toThrow(/closed/);
  });
});
