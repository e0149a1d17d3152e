import { applyHeapGrowth } from "./heap-growth";

describe("applyHeapGrowth", () => {
  it("sets V8's factor only where V8 would let the heap reach 4x, and never for 0", () => {
    expect(applyHeapGrowth(200, 512 * 1024 ** 2)).toBe(false);
    expect(applyHeapGrowth(200, 2 * 1024 ** 3 - 1)).toBe(false);
    expect(applyHeapGrowth(0, 4 * 1024 ** 3)).toBe(false);
    expect(applyHeapGrowth(200, 4 * 1024 ** 3)).toBe(true);
  });
});
