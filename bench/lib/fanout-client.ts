// One fan-out client process (forked by bench/fanout.ts): on {type: "go"} it opens `count` SSE joins of one run at
// once with raw node:http (one socket each), reads every frame to the `end` event and sends back per subscriber
// what the parent needs: join → first event, each token's receive time minus its journal id's ms, and a digest of
// the token ids received (exactly once, in order, is checked against the journal by the parent).
import { createHash } from "node:crypto";
import http from "node:http";
import { performance } from "node:perf_hooks";

export interface FanoutGo {
  type: "go";
  url: string;
  count: number;
  timeoutMs: number;
}

export interface SubscriberResult {
  status: number;
  /** Request sent → first SSE event (any event) parsed, ms. */
  joinMs: number;
  /** Request sent → response headers, ms. */
  headersMs: number;
  /** Token (`messages`) frames received. */
  tokens: number;
  /** sha1 of the token ids joined by ",", in arrival order. */
  idsDigest: string;
  /** Per token: receive time − the ms part of its journal id (Redis-stamped append time). */
  lagMs: number[];
  /** Per token: whether it was appended after this subscriber's response headers arrived (live, not backlog). */
  live: boolean[];
  gotEnd: boolean;
  error?: string;
}

export interface ClientReport {
  type: "done";
  results: SubscriberResult[];
  /** CPU this client process used from "go" to the last subscriber's end, in cores' worth. */
  cpuCores: number;
  wallMs: number;
}

const now = () => performance.timeOrigin + performance.now();
const idMs = (id: string) => Number(id.slice(0, id.indexOf("-")));

function join(url: string, timeoutMs: number): Promise<SubscriberResult> {
  return new Promise((resolve) => {
    const sentAt = now();
    const result: SubscriberResult = { status: 0, joinMs: Number.NaN, headersMs: Number.NaN, tokens: 0, idsDigest: "", lagMs: [], live: [], gotEnd: false };
    const hash = createHash("sha1");
    let headersAt = Number.NaN;
    let buffer = "";
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) result.error = error;
      result.idsDigest = hash.digest("hex");
      req.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    const req = http.get(url, { agent: false, headers: { accept: "text/event-stream" } }, (res) => {
      headersAt = now();
      result.status = res.statusCode ?? 0;
      result.headersMs = headersAt - sentAt;
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const at = now();
        buffer += chunk;
        let sep: number;
        while ((sep = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, sep);
          buffer = buffer.slice(sep + 2);
          if (frame.startsWith(":")) continue; // heartbeat
          const eventLine = frame.indexOf("event: ") === 0 ? frame.slice(7, frame.indexOf("\n")) : "";
          const idAt = frame.lastIndexOf("\nid: ");
          const id = idAt >= 0 ? frame.slice(idAt + 5) : "";
          if (Number.isNaN(result.joinMs)) result.joinMs = at - sentAt;
          if (eventLine === "messages") {
            if (result.tokens > 0) hash.update(",");
            hash.update(id);
            result.tokens += 1;
            const appended = idMs(id);
            result.lagMs.push(Math.round((at - appended) * 100) / 100);
            result.live.push(appended >= Math.floor(headersAt));
          } else if (eventLine === "end") {
            result.gotEnd = true;
            finish();
            return;
          }
        }
      });
      res.on("end", () => finish(result.gotEnd ? undefined : "stream ended without end event"));
      res.on("error", (err) => finish(String(err)));
    });
    req.on("error", (err) => finish(String(err)));
  });
}

process.on("message", async (msg: FanoutGo) => {
  if (msg?.type !== "go") return;
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const results = await Promise.all(Array.from({ length: msg.count }, () => join(msg.url, msg.timeoutMs)));
  const wallMs = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const report: ClientReport = { type: "done", results, cpuCores: (cpu.user + cpu.system) / 1000 / wallMs, wallMs };
  process.send!(report);
});
process.send?.({ type: "ready" });
