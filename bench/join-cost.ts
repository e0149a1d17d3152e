// What one join costs (issue #12, fan-out): N subscribers join one finished run at once with
// `GET /threads/{t}/runs/{r}/stream` (the SDK's `client.runs.joinStream`) and read it to its `end`. Runline
// (API + worker) and the clients share this process, so the CPU per join includes the client's side too; the
// round trips per join are Runline's alone. A finished run isolates the join path from token delivery: the
// fan-out benchmark's join latency is this cost times S, queued behind the tokens of the run being watched.
//
//   npx tsx bench/join-cost.ts [joins=1000] [tokens=2]
//
// `tokens` is the finished run's length: each join reads that backlog. Also counts socket writes per join (each
// is one write syscall, or one writev of several chunks), both sides of the loopback together.
import http from "node:http";
import net from "node:net";
import { createTestNamespace } from "@runline/testing";
import { installIoCounters } from "./lib/io-counters";
import { createThread, streamOverHttp } from "./lib/over-http";
import { startInProcessRunline } from "./lib/runline-target";
import { storyRunBody } from "./lib/workload";

const io = installIoCounters();

/** Counts socket writes (`_writeGeneric`: one per write syscall, a `writev` carrying several chunks counts once). */
function countSocketWrites() {
  const proto = net.Socket.prototype as unknown as { _writeGeneric(writev: boolean, ...rest: unknown[]): unknown };
  const original = proto._writeGeneric;
  const counts = { counting: false, writes: 0, writevs: 0 };
  proto._writeGeneric = function (this: unknown, writev: boolean, ...rest: unknown[]) {
    if (counts.counting) writev ? counts.writevs++ : counts.writes++;
    return original.call(this, writev, ...rest);
  };
  return counts;
}
const socketWrites = countSocketWrites();

async function main(): Promise<void> {
  const joins = Number(process.argv[2] ?? 1000);
  const tokens = Number(process.argv[3] ?? 2);
  const ns = await createTestNamespace("joincost");
  const target = await startInProcessRunline(ns);
  const agent = new http.Agent({ keepAlive: true, maxSockets: joins });
  try {
    const threadId = await createThread(target.url);
    await streamOverHttp(target.url, threadId, { tokens: 2, delayMs: 1 });
    const created = await fetch(`${target.url}/threads/${threadId}/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: storyRunBody({ tokens, delayMs: 1 }) });
    const { run_id: runId } = (await created.json()) as { run_id: string };
    await fetch(`${target.url}/threads/${threadId}/runs/${runId}/join`);
    const join = () =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        http
          .get(`${target.url}/threads/${threadId}/runs/${runId}/stream`, { agent }, (res) => {
            if (res.statusCode !== 200) reject(new Error(`join answered ${res.statusCode}`));
            res.on("data", () => undefined);
            res.on("end", () => resolve(performance.now() - t0));
          })
          .on("error", reject);
      });
    await Promise.all(Array.from({ length: 50 }, join)); // warm-up: JIT, pool and sockets
    io.counting = true;
    socketWrites.counting = true;
    const cpu0 = process.cpuUsage();
    const latencies = (await Promise.all(Array.from({ length: joins }, join))).sort((a, b) => a - b);
    const cpu = process.cpuUsage(cpu0);
    io.counting = false;
    socketWrites.counting = false;
    const at = (q: number) => latencies[Math.min(joins - 1, Math.floor(q * joins))]!.toFixed(0);
    console.log(`${joins} joins of a finished ${tokens}-token run at once: request → end p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`);
    console.log(`Socket writes per join (both sides): ${(socketWrites.writes / joins).toFixed(1)} write + ${(socketWrites.writevs / joins).toFixed(1)} writev`);
    console.log(`CPU per join (server and client, one process): ${((cpu.user + cpu.system) / 1000 / joins).toFixed(2)} ms`);
    console.log("Round trips per join:");
    console.log(io.report(joins));
  } finally {
    agent.destroy();
    await target.close();
    await ns.cleanup();
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
