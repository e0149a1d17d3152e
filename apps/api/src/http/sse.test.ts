import { encodedSseFrame, formatSseFrame } from "./sse";

describe("encodedSseFrame", () => {
  it("is the frame's UTF-8 bytes, and the same bytes as one HTTP chunk, built once per entry object", () => {
    const entry = { id: "1732712345678-0", event: "messages|agent:1", dataJson: '[{"content":"héllo ✓"},{}]' };
    const { frame, chunk } = encodedSseFrame(entry);
    const text = `event: messages|agent:1\ndata: [{"content":"héllo ✓"},{}]\nid: 1732712345678-0\n\n`;
    expect(frame.toString("utf8")).toBe(formatSseFrame(entry));
    expect(frame.toString("utf8")).toBe(text);
    // The chunk's size line counts bytes, not characters (é and ✓ are 2 and 3 bytes).
    expect(chunk.toString("utf8")).toBe(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
    expect(Buffer.byteLength(text)).toBe(text.length + 3);
    expect(encodedSseFrame(entry).chunk).toBe(chunk);
    // An equal entry that is another object gets its own frame: nothing is keyed by content.
    const copy = { ...entry, dataJson: '"other"' };
    expect(encodedSseFrame(copy).frame.toString("utf8")).toBe(formatSseFrame(copy));
  });
});
