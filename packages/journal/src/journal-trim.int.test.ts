import { createTestNamespace, waitFor, type TestNamespace } from "@runline/testing";
import { GAP_EVENT, parseEntryData, type JournalEntry, type JournalGap } from "./entry";
import { createJournalHub, type JournalHub } from "./journal-hub";
import { readRange } from "./journal-reader";
import { createJournalWriter, type JournalWriter } from "./journal-writer";
import { subscribeRun } from "./subscribe-run";
import { collect, describeEntries, expectedEvents, strictlyIncreasing, writeRun } from "./test-support";

// Trimming is approximate (`MAXLEN ~` drops whole 100-entry stream nodes), so runs here are several nodes long.
const N = 400;
let ns: TestNamespace;
let hub: JournalHub;
let writer: JournalWriter;
let runSeq = 0;
const nextRunId = () => `${ns.id}-run-${++runSeq}`;

beforeAll(async () => {
  ns = await createTestNamespace("journal-trim");
  hub = createJournalHub(ns.redis, ns.redisPrefix, { connectionName: `${ns.id}:hub` });
  writer = createJournalWriter(ns.redis, ns.redisPrefix, { maxLen: 10 });
});

afterAll(async () => {
  await hub.close();
  await ns.cleanup();
});

/** A gap entry first, then a gap-free, in-order tail of the run ending with `end`. */
function expectGapThenTail(entries: JournalEntry[], afterId: string | null) {
  const [gap, ...tail] = entries;
  expect(gap!.event).toBe(GAP_EVENT);
  const info = parseEntryData<JournalGap>(gap!);
  expect(info.afterId).toBe(afterId);
  expect(tail[0]!.id).toBe(info.firstAvailableId);
  const names = describeEntries(tail);
  expect(names).toEqual(expectedEvents(N).slice(-names.length));
  expect(names.length).toBeLessThan(N);
  expect(strictlyIncreasing(tail)).toBe(true);
}

describe("a trimmed journal", () => {
  it("gives a reader from the start or from a trimmed id an explicit gap, not a silent hole", async () => {
    const runId = nextRunId();
    let firstId!: string;
    await writeRun(writer, runId, N, {
      0: async () => {
        [{ id: firstId }] = (await collect(readRange(ns.redis, ns.redisPrefix, runId))) as [JournalEntry];
      },
    });
    expectGapThenTail(await collect(subscribeRun({ redis: ns.redis, hub, prefix: ns.redisPrefix, runId })), null);
    expectGapThenTail(await collect(subscribeRun({ redis: ns.redis, hub, prefix: ns.redisPrefix, runId, lastEventId: firstId })), firstId);
  });

  it("gives no gap to a reader whose position is still stored", async () => {
    const runId = nextRunId();
    await writeRun(writer, runId, N);
    const stored = await collect(readRange(ns.redis, ns.redisPrefix, runId));
    expect(stored[0]!.event).toBe(GAP_EVENT);
    const resumed = await collect(readRange(ns.redis, ns.redisPrefix, runId, stored[1]!.id));
    expect(resumed).toEqual(stored.slice(2));
  });

  it("drops a slow subscriber's overflowing buffer, catches up from the stream, and reports what was trimmed", async () => {
    const runId = nextRunId();
    let delivered = 0;
    const counter = await hub.listen(runId, () => delivered++); // same hub: when it has seen an entry, so has the subscriber
    const slow = subscribeRun({ redis: ns.redis, hub, prefix: ns.redisPrefix, runId, maxBuffered: 5 })[Symbol.asyncIterator]();
    const pending = slow.next(); // subscribed and waiting; then it stops pulling while the run goes on
    await writer.append(runId, "metadata", {});
    const first = await pending;
    expect(first.value!.event).toBe("metadata");
    for (let i = 0; i < N; i++) await writer.append(runId, "values", { i });
    await writer.end(runId, {});
    await waitFor(() => delivered === N + 2, { what: "all live messages to reach the hub" });

    const rest: JournalEntry[] = [];
    for (let r = await slow.next(); !r.done; r = await slow.next()) rest.push(r.value);
    expectGapThenTail(rest, first.value!.id);
    counter();
  });
});
