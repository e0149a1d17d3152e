// What a Runline process keeps in its heap while N runs stream: one heap snapshot mid-run, then retained sizes by
// constructor (bench/lib/heap-dominators.ts). Profile before optimising memory.
//
//   npx tsx bench/heap-profile.ts [--streams 400] [--tokens 1500] [--after-ms 8000] [--top 40] [--drill NAME]
//
// Runline runs as one process (`RUNLINE_PROCESSES=1`, API + worker) under `--heapsnapshot-signal`; the N SDK
// streams (bench/lib/scale-client.ts, 10 ms a token) run in a separate process. `--after-ms` after they start, the
// snapshot is taken (the process pauses while it writes, ~200 MB at 400 streams) into bench/out/heap/, and analysed
// in a child with a heap large enough to parse it. `--drill object:PartialCollector` also prints what the median
// instance of that constructor retains.
import { execFile, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestNamespace } from "@runline/testing";
import { procMemoryMb, startRunlineProcess } from "./lib/runline-target";

const OUT_DIR = path.resolve(__dirname, "out", "heap");

async function waitForSnapshot(dir: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(500);
    const file = readdirSync(dir).find((f) => f.endsWith(".heapsnapshot"));
    if (!file) continue;
    // Written in one go by the paused process: complete once its size stops changing.
    const size = statSync(path.join(dir, file)).size;
    await sleep(1500);
    if (size > 0 && statSync(path.join(dir, file)).size === size) return path.join(dir, file);
  }
  throw new Error(`no heap snapshot in ${dir} within ${timeoutMs} ms`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      streams: { type: "string", default: "400" },
      tokens: { type: "string", default: "1500" },
      "after-ms": { type: "string", default: "8000" },
      top: { type: "string", default: "40" },
      drill: { type: "string" },
    },
  });
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
  const ns = await createTestNamespace("heapprofile");
  const target = await startRunlineProcess(ns, { env: { RUNLINE_PROCESSES: "1", LOG_LEVEL: "warn" }, nodeArgs: ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${OUT_DIR}`] });
  let client: ChildProcess | undefined;
  try {
    client = execFile(process.execPath, ["--import", "tsx", path.join(__dirname, "lib/scale-client.ts"), target.url, values.streams!, values.tokens!, "10"], { maxBuffer: 1 << 26 });
    await sleep(Number(values["after-ms"]));
    const { rssMb } = procMemoryMb(target.pid);
    process.kill(target.pid, "SIGUSR2");
    const file = await waitForSnapshot(OUT_DIR, 300_000);
    process.stdout.write(`${values.streams} streams, snapshot ${values["after-ms"]} ms after they started; process RSS ${rssMb.toFixed(0)} MB\n`);
    const args = ["--max-old-space-size=6000", "--import", "tsx", path.join(__dirname, "lib/heap-dominators.ts"), file, "--top", values.top!, ...(values.drill ? ["--drill", values.drill] : [])];
    process.stdout.write(execFileSync(process.execPath, args, { maxBuffer: 1 << 26 }).toString());
  } finally {
    client?.kill();
    await target.close();
    await ns.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
