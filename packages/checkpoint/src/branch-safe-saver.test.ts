import { compareChannelVersions, maxChannelVersion } from "@langchain/langgraph-checkpoint";
import type { Pool } from "pg";
import { BranchSafePostgresSaver, nextBranchVersion } from "./branch-safe-saver";

const FORMAT = /^\d{32}\.\d{16}$/;
const counterOf = (v: string): number => Number.parseInt(v.split(".")[0], 10);

describe("nextBranchVersion", () => {
  test("counts from the integer part of the current version", () => {
    expect(counterOf(nextBranchVersion(undefined))).toBe(1);
    expect(counterOf(nextBranchVersion(4))).toBe(5);
    expect(counterOf(nextBranchVersion("00000000000000000000000000000009.1234567890123456"))).toBe(10);
    expect(nextBranchVersion(undefined)).toMatch(FORMAT);
    expect(() => nextBranchVersion("abc")).toThrow(/Unrecognised channel version/);
  });

  test("two writes from one version differ (one per branch)", () => {
    const current = nextBranchVersion(undefined);
    expect(nextBranchVersion(current)).not.toBe(nextBranchVersion(current));
  });

  // LangGraph orders versions two ways: `>` (task triggers, new-version detection) and `localeCompare`
  // (`compareChannelVersions`/`maxChannelVersion`). Both must agree with the counter, across digit carries.
  test("sorts by counter under both of LangGraph's comparisons", () => {
    for (let i = 0; i < 2000; i += 1) {
      const a = nextBranchVersion(Math.floor(Math.random() * 1200));
      const b = nextBranchVersion(Math.floor(Math.random() * 1200));
      const byCounter = Math.sign(counterOf(a) - counterOf(b));
      if (byCounter === 0) continue;
      expect(Math.sign(compareChannelVersions(a, b))).toBe(byCounter);
      expect(a > b ? 1 : -1).toBe(byCounter);
    }
    const v9 = nextBranchVersion(8);
    const v10 = nextBranchVersion(9);
    expect(maxChannelVersion(v9, v10)).toBe(v10);
    expect(v10 > v9).toBe(true);
  });

  // Documents why the saver must not continue threads written by the stock saver: localeCompare puts any
  // integer above every padded string, so LangGraph's max (which feeds getNextVersion) goes wrong.
  test("mixed with integer versions, maxChannelVersion picks the integer", () => {
    expect(maxChannelVersion(2, nextBranchVersion(5))).toBe(2);
  });
});

describe("BranchSafePostgresSaver", () => {
  test("end() leaves the shared pool open", async () => {
    const pool = { end: jest.fn(), query: jest.fn(), connect: jest.fn() } as unknown as Pool;
    await new BranchSafePostgresSaver(pool, { schema: "x" }).end();
    expect(pool.end).not.toHaveBeenCalled();
  });
});
