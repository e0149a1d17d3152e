import { encodedSseFrame, formatSseFrame } from "./sse";

describe("encodedSseFrame", () => {
  it("is the frame's UTF-8 bytes, built once per entry object and shared by every stream that writes it", () => {
    const entry = { id: "1732712345678-0", event: "messages|agent:1", dataJson: '[{"content":"héllo ✓"},{}]' };
    const frame = encodedSseFrame(entry);
    expect(frame.toString("utf8")).toBe(formatSseFrame(entry));
    expect(frame.toString("utf8")).toBe(`event: messages|agent:1\ndata: [{"content":"héllo ✓"},{}]\nid: 1732712345678-0\n\n`);
    expect(encodedSseFrame(entry)).toBe(frame);
    // An equal entry that is another object gets its own frame: nothing is keyed by content.
    const copy = { ...entry, dataJson: '"other"' };
    expect(encodedSseFrame(copy).toString("utf8")).toBe(formatSseFrame(copy));
  });
});
