import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseCliArgs } from "../src/args";
import { locateConfig, readProjectConfig } from "../src/langgraph-config";
import { projectEnvironment } from "../src/project-env";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "runline-cli-config-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, value: unknown) => {
  const file = path.join(dir, name);
  writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
};

describe("runline flags", () => {
  it("takes langgraph dev's flags", () => {
    expect(parseCliArgs(["dev", "-c", "x/langgraph.json", "-p", "3000", "--host", "0.0.0.0", "--no-browser", "-n", "4"])).toEqual({
      command: "dev",
      config: "x/langgraph.json",
      port: 3000,
      host: "0.0.0.0",
      role: undefined,
      jobsPerWorker: 4,
    });
    expect(parseCliArgs(["up", "--role", "worker"])).toMatchObject({ command: "up", role: "worker", config: "langgraph.json" });
  });

  it("refuses what it cannot honour, with the reason", () => {
    expect(() => parseCliArgs(["dev", "--tunnel"])).toThrow("--tunnel is a langgraph dev flag Runline does not support");
    expect(() => parseCliArgs(["dev", "--port", "http"])).toThrow('--port must be an integer from 0 to 65535, got "http"');
    expect(() => parseCliArgs(["dev", "--role", "api"])).toThrow("--role is for `runline up`");
    expect(() => parseCliArgs(["up", "--role", "both"])).toThrow("--role must be all, api or worker");
    expect(() => parseCliArgs(["serve"])).toThrow('unknown command "serve"');
  });
});

describe("langgraph.json", () => {
  it("is found as a file or as the directory holding it", () => {
    const file = write("langgraph.json", { graphs: { a: "./a.ts:graph" } });
    expect(locateConfig(dir)).toBe(file);
    expect(locateConfig("langgraph.json", dir)).toBe(file);
    expect(() => locateConfig(path.join(dir, "nope.json"))).toThrow(`no nope.json at ${dir}/nope.json`);
  });

  it("reads graphs (both forms), env, http.cors and dependencies, and lists what it ignores", () => {
    write("package.json", { name: "p" });
    const file = write("langgraph.json", {
      node_version: "20",
      graphs: { a: "./a.ts:graph", b: { path: "./b.ts:make", description: "B" } },
      env: "./.env",
      http: { cors: { allow_origins: ["http://x"], allow_credentials: true }, disable_meta: false },
      dependencies: [".", "lodash"],
      dockerfile_lines: [],
    });
    const config = readProjectConfig(file);
    expect(config).toMatchObject({
      graphIds: ["a", "b"],
      env: { file: path.join(dir, ".env") },
      corsOrigins: ["http://x"],
      localDependencies: [dir],
    });
    expect(config.ignored).toEqual([
      '"node_version"',
      '"dockerfile_lines"',
      '"http.cors.allow_credentials" (Runline allows its own fixed methods and headers)',
      '"http.disable_meta"',
      'dependency "lodash" (install packages with npm; Runline uses the project\'s node_modules as they are)',
    ]);
  });

  it("refuses a bad file with the key that is wrong", () => {
    expect(() => readProjectConfig(write("a.json", "{"))).toThrow(/cannot read .*a\.json/);
    expect(() => readProjectConfig(write("b.json", { graphs: { a: 3 } }))).toThrow(/graphs\.a/);
    expect(() => readProjectConfig(write("c.json", { graphs: { a: "./a.ts:g" }, env: ["OPENAI_API_KEY"] }))).toThrow('"env" as a list of names');
    expect(() => readProjectConfig(write("d.json", { graphs: { a: "./a.ts:g" }, dependencies: ["./missing"] }))).toThrow('dependency "./missing" has no package.json');
  });

  it("env: the shell wins over the file, the file fills the rest; flags set Runline's settings", () => {
    write(".env", "FROM_FILE=file\nBOTH=file\n# comment\n");
    const config = readProjectConfig(write("langgraph.json", { graphs: { a: "./a.ts:g" }, env: ".env", http: { cors: { allow_origins: ["http://a", "http://b"] } } }));
    const { env, warnings } = projectEnvironment({ command: "dev", config: "", port: 3000, jobsPerWorker: 2 }, config, { BOTH: "shell", PATH: "/bin" });
    expect(warnings).toEqual([]);
    expect(env).toMatchObject({
      FROM_FILE: "file",
      BOTH: "shell",
      PATH: "/bin",
      RUNLINE_CONFIG: config.configPath,
      RUNLINE_DEMO: "0",
      RUNLINE_ROLE: "all",
      HOST: "127.0.0.1",
      PORT: "3000",
      RUNLINE_WORKER_CONCURRENCY: "2",
      RUNLINE_CORS_ORIGINS: "http://a,http://b",
      RUNLINE_SERVICES_DIR: path.join(dir, ".runline", "services"),
    });
    const up = projectEnvironment({ command: "up", config: "", role: "api" }, { ...config, env: { file: path.join(dir, "none.env") } }, {});
    expect(up.env).toMatchObject({ RUNLINE_ROLE: "api" });
    expect(up.env.HOST).toBeUndefined();
    expect(up.warnings).toEqual([`env file ${dir}/none.env not found; continuing without it`]);
  });
});
