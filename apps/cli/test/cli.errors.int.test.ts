import { createTestNamespace, namespaceEnv, type TestNamespace } from "@runline/testing";
import { runCli } from "./cli-process";
import { createFixtureProject, type FixtureProject } from "./fixture-project";

// Every way a langgraph.json can name something that is not a servable graph fails the start (exit 1) with the
// graph id, the file and the export in the message, before anything listens.
let ns: TestNamespace;
let project: FixtureProject;

beforeAll(async () => {
  ns = await createTestNamespace("cli-errors");
  project = createFixtureProject({ under: "repo" });
});
afterAll(async () => {
  project?.remove();
  await ns?.cleanup();
});

async function startFails(graphs: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) {
  const config = project.writeConfig(`bad-${Math.random().toString(36).slice(2)}.json`, { ...(graphs ? { graphs } : {}), ...extra });
  const cli = runCli(["dev", "--config", config, "--port", "0"], { cwd: project.dir, env: namespaceEnv(ns) });
  const code = await cli.exited;
  return { code, output: cli.output() };
}

describe("runline dev refuses a graph it cannot serve, naming the file and the export", () => {
  it("a wrong path", async () => {
    const { code, output } = await startFails({ missing: "./src/nope.ts:graph" });
    expect(code).toBe(1);
    expect(output).toContain(`failed to start: graph "missing" (./src/nope.ts:graph): file ${project.dir}/src/nope.ts does not exist`);
    expect(output).not.toContain("serving");
  });

  it("a missing export, listing the ones there are", async () => {
    const { code, output } = await startFails({ typo: "./src/agent.ts:grph" });
    expect(code).toBe(1);
    expect(output).toMatch(new RegExp(`graph "typo" \\(./src/agent.ts:grph\\): ${project.dir}/src/agent.ts has no export "grph" \\(it exports: [^)]*\\bgraph\\b`));
  });

  it("an export that is not a graph", async () => {
    const { code, output } = await startFails({ number: "./src/agent.ts:notAGraph" });
    expect(code).toBe(1);
    expect(output).toContain(`graph "number" (./src/agent.ts:notAGraph): export "notAGraph" is a number, not a compiled graph, a StateGraph, or a function returning one`);
  });

  it("a factory that does not return a graph", async () => {
    const { code, output } = await startFails({ factory: "./src/agent.ts:makeNothing" });
    expect(code).toBe(1);
    expect(output).toContain(`graph "factory" (./src/agent.ts:makeNothing): export "makeNothing" is a function, but it returned an object (hello)`);
  });

  it("a langgraph.json without graphs, before touching Redis or Postgres", async () => {
    const { code, output } = await startFails(undefined, { env: {} });
    expect(code).toBe(1);
    expect(output).toMatch(/is not a valid langgraph\.json:\n {2}graphs: /);
    expect(output).not.toContain("using Redis");
  });
});
