import { createTestNamespace, namespaceEnv, type TestNamespace } from "@runline/testing";
import { runCli, servingUrl, type CliProcess } from "./cli-process";
import { createFixtureProject, type FixtureProject } from "./fixture-project";
import { streamCancelContinue } from "./sdk-cancel";

// `runline dev` from the source checkout against a project that has its OWN copies of @langchain/core,
// @langchain/langgraph and @langchain/langgraph-checkpoint, next to the repo's: the case where Runline would
// otherwise load a second copy.
let ns: TestNamespace;
let project: FixtureProject;
let cli: CliProcess;
let url: string;

beforeAll(async () => {
  ns = await createTestNamespace("cli-dev");
  project = createFixtureProject({ under: "repo", ownPeers: true });
  project.writeConfig("langgraph.json", {
    graphs: { agent: "./src/agent.ts:graph", factory: { path: "./src/agent.ts:makeGraph", description: "a factory" } },
    env: ".env",
    http: { cors: { allow_origins: ["http://app.example"] } },
    dependencies: ["."],
  });
  require("node:fs").writeFileSync(`${project.dir}/.env`, "FIXTURE_FROM_ENV_FILE=1\n");
  cli = runCli(["dev", "--port", "0"], { cwd: project.dir, env: namespaceEnv(ns) });
  url = await servingUrl(cli);
}, 90_000);

afterAll(async () => {
  await cli?.stop();
  project?.remove();
  await ns?.cleanup();
});

describe("runline dev on a project with its own @langchain copies", () => {
  it("uses the project's copies, and says so at start", () => {
    const line = cli.output().split("\n").find((l) => l.includes("LangChain peers from the project"))!;
    for (const name of ["core", "langgraph", "langgraph-checkpoint"]) expect(line).toContain(`${project.dir}/node_modules/@langchain/${name}`);
  });

  it("streams tokens, a cancel keeps the partial, and the next run sees it as the project's own message class", async () => {
    const seen = await streamCancelContinue(url, "agent");
    expect(seen.cancel).toMatchObject({ outcome: "cancelled", partial: { token_count: seen.tokens.length } });
    expect(seen.run.status).toBe("interrupted");
    const partial = seen.afterCancel.messages.at(-1);
    expect(partial).toMatchObject({ type: "ai", content: seen.tokens.join("") });
    expect(partial.response_metadata.runline_partial).toMatchObject({ cancelled: true });
    // The continue run's node got the partial (written by Runline, read back through Runline's checkpointer)
    // and every other message as instances of the project's BaseMessage: one copy of @langchain/core.
    expect(seen.continued).toMatchObject({ saw_partial: true, foreign: 0 });
    expect(seen.continued.messages.map((m: any) => m.type)).toEqual(["human", "ai", "human", "ai"]);
  });

  it("serves a graph factory (object form of graphs) too", async () => {
    const res = await fetch(`${url}/runs/wait`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "factory", input: { messages: [{ role: "user", content: "hi" }] }, config: { configurable: { words: 2 } } }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).messages.at(-1).content).toBe("word0 word1 ");
  });

  it("applies http.cors.allow_origins", async () => {
    const res = await fetch(`${url}/threads`, { method: "OPTIONS", headers: { origin: "http://app.example", "access-control-request-method": "POST" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("http://app.example");
    const other = await fetch(`${url}/threads`, { method: "OPTIONS", headers: { origin: "http://elsewhere.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});
