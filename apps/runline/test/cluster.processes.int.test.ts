import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { collectSse, createTestNamespace, freePort, namespaceEnv, waitFor, type TestNamespace } from "@runline/testing";

const REPO_ROOT = path.resolve(__dirname, "../../..");

/** `main.ts` as `npm start` runs it (role all), with RUNLINE_PROCESSES=2: a cluster primary and two children. */
interface ClusterProcess {
  child: ChildProcess;
  url: string;
  /** Every JSON log line so far (primary and children share stderr). */
  lines(): Array<Record<string, any>>;
  exited: Promise<number | null>;
}

let ns: TestNamespace;
let runline: ClusterProcess;

async function startCluster(): Promise<ClusterProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "apps/runline/src/main.ts"), "--no-demo"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...namespaceEnv(ns),
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "info",
      RUNLINE_PROCESSES: "2",
      RUNLINE_WORKER_CONCURRENCY: "8",
      RUNLINE_SHUTDOWN_GRACE_MS: "2000",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines = () =>
    log
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, any>);
  await waitFor(() => child.exitCode === null && lines().some((l) => l.msg === "Runline started"), { timeoutMs: 60_000, what: `the cluster to start:\n${log}` });
  return { child, url: `http://127.0.0.1:${port}`, lines, exited };
}

async function streamOneRun(url: string): Promise<string> {
  const thread = await (await fetch(`${url}/threads`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json();
  const { status, frames } = await collectSse(`${url}/threads/${thread.thread_id}/runs/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      assistant_id: "story",
      input: { messages: [{ role: "user", content: "a story" }] },
      stream_mode: ["messages-tuple"],
      config: { configurable: { story_tokens: 10, story_token_delay_ms: 20 } },
    }),
  });
  expect(status).toBe(200);
  expect(frames.filter((f) => f.event === "messages")).toHaveLength(10);
  expect(frames[frames.length - 1]!.data.status).toBe("success");
  return frames[0]!.data.run_id;
}

const childPids = () => new Set(runline.lines().filter((l) => l.msg === "Runline process started").map((l) => l.pid as number));
/** The pid of the worker process that ran each run ("Run started" lines carry the pid and runId). */
const runnerOf = (runIds: string[]) => {
  const started = runline.lines().filter((l) => l.msg === "Run started");
  return runIds.map((id) => started.find((l) => l.runId === id)?.pid as number | undefined);
};

beforeAll(async () => {
  ns = await createTestNamespace("cluster");
  runline = await startCluster();
}, 90_000);
afterAll(async () => {
  if (runline.child.exitCode === null) runline.child.kill("SIGKILL");
  await ns.cleanup();
});

describe("npm start with RUNLINE_PROCESSES=2 (node:cluster)", () => {
  it("two child processes share the port, and runs are served by both (API and worker side)", async () => {
    const started = runline.lines().find((l) => l.msg === "Runline started")!;
    expect(started.processes).toBe(2);
    expect(started.pids).toHaveLength(2);
    expect(childPids()).toEqual(new Set(started.pids));
    const runIds: string[] = [];
    // Connections are handed round-robin and either worker may fetch a job: go on until both ran some.
    await waitFor(
      async () => {
        runIds.push(...(await Promise.all(Array.from({ length: 6 }, () => streamOneRun(runline.url)))));
        return new Set(runnerOf(runIds)).size === 2;
      },
      { timeoutMs: 30_000, intervalMs: 0, what: "runs executed by both child processes" },
    );
    expect(new Set(runnerOf(runIds))).toEqual(new Set(started.pids));
    const apiPids = new Set(runline.lines().filter((l) => l.component === "api").map((l) => l.pid));
    expect(apiPids.size).toBeGreaterThan(0);
    for (const pid of apiPids) expect(started.pids).toContain(pid);
  }, 60_000);

  it("a killed child is replaced; the service keeps answering and the new child runs work", async () => {
    const [victim] = [...childPids()];
    process.kill(victim!, "SIGKILL");
    // Meanwhile the other child keeps answering on the shared port (a kept-alive socket to the dead one resets).
    await waitFor(async () => (await fetch(`${runline.url}/ok`)).status === 200, { timeoutMs: 5_000, what: "the surviving child to answer" });
    const restarted = await waitFor(() => runline.lines().find((l) => l.msg === "Runline process restarted"), { timeoutMs: 30_000, what: "the child to be restarted" });
    expect(runline.lines().some((l) => l.msg === "Runline process exited; restarting it" && l.pid === victim && l.signal === "SIGKILL")).toBe(true);
    expect(restarted.pid).not.toBe(victim);
    const runIds: string[] = [];
    await waitFor(
      async () => {
        runIds.push(...(await Promise.all(Array.from({ length: 6 }, () => streamOneRun(runline.url)))));
        return runnerOf(runIds).includes(restarted.pid);
      },
      { timeoutMs: 30_000, intervalMs: 0, what: "a run executed by the restarted child" },
    );
  }, 60_000);

  it("SIGTERM drains every child and the primary exits 0", async () => {
    runline.child.kill("SIGTERM");
    const code = await Promise.race([runline.exited, new Promise((r) => setTimeout(() => r("timeout"), 30_000))]);
    expect(code).toBe(0);
    const stopping = new Set(runline.lines().filter((l) => l.msg === "Stopping" && l.signal === "SIGTERM").map((l) => l.pid));
    // The primary and every live child (the killed one never got the signal).
    expect(stopping.size).toBe(3);
    expect(stopping.has(runline.child.pid)).toBe(true);
  }, 40_000);
});
