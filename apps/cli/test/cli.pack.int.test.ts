import { copyFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { createTestNamespace, namespaceEnv, type TestNamespace } from "@runline/testing";
import { runCli, servingUrl, type CliProcess } from "./cli-process";
import { createFixtureProject, type FixtureProject } from "./fixture-project";
import { installPackedCli } from "./packed-install";
import { streamCancelContinue } from "./sdk-cancel";

// The package as a user gets it: packed, installed into a project outside the repo (nothing to walk up to),
// `runline dev` from that project's node_modules/.bin. ~40 s, most of it npm install.
jest.setTimeout(240_000);

let ns: TestNamespace;
let project: FixtureProject;
let installed: Awaited<ReturnType<typeof installPackedCli>>;
let cli: CliProcess;
let url: string;
const timings: Record<string, number> = {};

beforeAll(async () => {
  ns = await createTestNamespace("cli-pack");
  project = createFixtureProject({ under: "tmp" });
  let t = Date.now();
  installed = await installPackedCli(project.dir);
  timings.packAndInstallMs = Date.now() - t;
  t = Date.now();
  cli = runCli(["dev", "--port", "0"], { cwd: project.dir, env: namespaceEnv(ns), bin: installed.bin });
  url = await servingUrl(cli);
  timings.startMs = Date.now() - t;
});

afterAll(async () => {
  await cli?.stop();
  installed?.cleanup();
  project?.remove();
  await ns?.cleanup();
  process.stdout.write(`cli.pack timings: ${JSON.stringify(timings)}\n`);
});

describe("the packed runline package in an unrelated project", () => {
  it("is self-contained: a bin, the bundle, and only registry dependencies", () => {
    const manifest = JSON.parse(readFileSync(path.join(project.dir, "node_modules", "@runline", "cli", "package.json"), "utf8"));
    expect(manifest.bin).toEqual({ runline: "bin/runline.mjs" });
    const deps = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
    expect(deps.filter((d) => d.startsWith("@runline/"))).toEqual([]);
    expect(manifest.peerDependencies).toMatchObject({ "@langchain/core": expect.any(String), "@langchain/langgraph": expect.any(String) });
  });

  it("serves the project's graph with the project's LangChain copies", () => {
    expect(cli.output()).toContain(`@langchain/core@`);
    expect(cli.output()).toContain(`(${project.dir}/node_modules/@langchain/core)`);
  });

  it("streams tokens over the SDK, a cancel keeps the partial, and 'please continue' sees it", async () => {
    const seen = await streamCancelContinue(url, "agent");
    expect(seen.tokens.length).toBeGreaterThanOrEqual(6);
    expect(seen.cancel).toMatchObject({ outcome: "cancelled", partial: { token_count: seen.tokens.length } });
    expect(seen.afterCancel.messages.at(-1)).toMatchObject({ type: "ai", content: seen.tokens.join("") });
    expect(seen.continued).toMatchObject({ saw_partial: true, foreign: 0 });
  });

  it("an ESM project (.mts graph) gets the ESM builds of the peers, and the round trip holds", async () => {
    copyFileSync(path.join(project.dir, "src", "agent.ts"), path.join(project.dir, "src", "agent.mts"));
    const config = project.writeConfig("langgraph-esm.json", { graphs: { agent_esm: "./src/agent.mts:graph" } });
    // Its own namespace: workers sharing a queue must serve the same graphs (the first server's would take the job).
    const esmNs = await createTestNamespace("cli-pack-esm");
    const esm = runCli(["dev", "--config", config, "--port", "0"], { cwd: project.dir, env: namespaceEnv(esmNs), bin: installed.bin });
    try {
      const seen = await streamCancelContinue(await servingUrl(esm), "agent_esm");
      expect(seen.cancel).toMatchObject({ outcome: "cancelled" });
      expect(seen.continued).toMatchObject({ saw_partial: true, foreign: 0 });
    } finally {
      await esm.stop();
      await esmNs.cleanup();
    }
  });
});
