import http from "node:http";
import net from "node:net";
import express from "express";
import { encodedSseFrame, formatSseFrame, pipeSse } from "./sse";

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

describe("pipeSse", () => {
  it("writes the frames it has at hand (a joiner's backlog) in a few socket writes, all of them, in order", async () => {
    const entries = Array.from({ length: 100 }, (_, i) => ({ id: `1-${i}`, event: "messages", dataJson: `[{"content":"t${i}"},{}]` }));
    const app = express();
    app.get("/s", (req, res) => {
      void pipeSse(
        req,
        res,
        async function* () {
          yield* entries;
          yield { id: "1-100", event: "end", dataJson: "{}" };
        },
        { events: new Set(["messages", "end"]), heartbeatMs: 60_000 },
      );
    });
    const server = http.createServer(app);
    let serverSocket: unknown = null;
    server.on("connection", (socket) => (serverSocket = socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    // One `_write` or `_writev` call of a socket is one write syscall (a writev carries several chunks).
    const proto = net.Socket.prototype as unknown as Record<"_write" | "_writev", (...args: unknown[]) => unknown>;
    let writes = 0;
    const spies = (["_write", "_writev"] as const).map((name) => {
      const original = proto[name];
      return jest.spyOn(proto, name).mockImplementation(function (this: unknown, ...args: unknown[]) {
        if (this === serverSocket) writes++;
        return original.apply(this, args);
      });
    });
    try {
      const { port } = server.address() as { port: number };
      const body = await (await fetch(`http://127.0.0.1:${port}/s`)).text();
      const ids = [...body.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
      expect(ids).toEqual([...entries.map((e) => e.id), "1-100"]);
      // Headers, the frames, the last chunk: one frame per write would be 100+.
      expect(writes).toBeLessThan(10);
    } finally {
      spies.forEach((spy) => spy.mockRestore());
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
