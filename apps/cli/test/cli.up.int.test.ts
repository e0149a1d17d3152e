import { createTestNamespace, namespaceEnv, type TestNamespace } from "@runline/testing";
import { runCli, servingUrl, waitForOutput, type CliProcess } from "./cli-process";
import { createFixtureProject, type FixtureProject } from "./fixture-project";
import { streamCancelContinue } from "./sdk-cancel";

// `runline up` as production runs it: one API process and one worker process, sharing Redis and Postgres. The
// cancel crosses processes (the API records it, the worker that owns the run saves the partial).
let ns: TestNamespace;
let project: FixtureProject;
let api: CliProcess;
let worker: CliProcess;
let url: string;

beforeAll(async () => {
  ns = await createTestNamespace("cli-up");
  project = createFixtureProject({ under: "repo" });
  api = runCli(["up", "--role", "api", "--port", "0"], { cwd: project.dir, env: namespaceEnv(ns) });
  worker = runCli(["up", "--role", "worker"], { cwd: project.dir, env: namespaceEnv(ns) });
  [url] = await Promise.all([servingUrl(api), waitForOutput(worker, /serving agent, factory \(role worker\)/)]);
}, 90_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  project?.remove();
  await ns?.cleanup();
});

describe("runline up --role api + --role worker", () => {
  it("runs, cancels with the partial kept, and continues across the two processes", async () => {
    const seen = await streamCancelContinue(url, "agent");
    expect(seen.cancel).toMatchObject({ outcome: "cancelled", partial: { token_count: seen.tokens.length } });
    expect(seen.continued).toMatchObject({ saw_partial: true, foreign: 0 });
  });

  it("the API process serves HTTP, the worker process does not", () => {
    expect(api.output()).toContain("(role api) at http://");
    expect(worker.output()).not.toMatch(/at http:\/\//);
  });

  it("stops on SIGTERM with exit code 0", async () => {
    expect(await worker.stop()).toBe(0);
    expect(await api.stop()).toBe(0);
  });
});
