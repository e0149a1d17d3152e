import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { createTestNamespace, namespaceEnv, type TestNamespace } from "@runline/testing";
import { runCli, servingUrl } from "./cli-process";
import { createFixtureProject, type FixtureProject } from "./fixture-project";

// `runline dev` finds or starts Redis and Postgres through the same with-services.sh as `npm start`. Here no
// REDIS_URL is set and the probed port is one nothing listens on, so it must start a private Redis, keep its
// files in the project's .runline/services, use it, and stop it on exit. (Postgres stays the shared one: a
// private cluster's initdb is too slow for this suite; the script's Postgres path is the one `npm start` uses.)
let ns: TestNamespace;
let project: FixtureProject;

beforeAll(async () => {
  ns = await createTestNamespace("cli-services");
  project = createFixtureProject({ under: "repo" });
});
afterAll(async () => {
  project?.remove();
  await ns?.cleanup();
});

it("starts a private Redis in the project, runs a graph on it, and stops it on exit", async () => {
  const env = { ...namespaceEnv(ns), REDIS_URL: "", RUNLINE_REDIS_PORT_PROBE: "1" };
  const cli = runCli(["dev", "--port", "0"], { cwd: project.dir, env });
  try {
    const url = await servingUrl(cli);
    expect(cli.output()).toMatch(/using Redis at redis:\/\/127\.0\.0\.1:\d+ \(private server, stopped on exit\)/);
    const redisDir = path.join(project.dir, ".runline", "services", "redis");
    expect(readdirSync(redisDir).some((f) => /^redis-\d+\.pid$/.test(f))).toBe(true);
    const res = await fetch(`${url}/runs/wait`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "agent", input: { messages: [{ role: "user", content: "hi" }] }, config: { configurable: { words: 2 } } }),
    });
    expect((await res.json()).messages.at(-1).content).toBe("word0 word1 ");
    expect(await cli.stop()).toBe(0);
    // with-services.sh removes the pid file once the server it started is gone.
    expect(readdirSync(redisDir).filter((f) => f.endsWith(".pid"))).toEqual([]);
    expect(existsSync(path.join(project.dir, ".runline", "services"))).toBe(true);
  } finally {
    await cli.stop();
  }
}, 90_000);
