import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const CLI_ROOT = path.resolve(__dirname, "..");
export const REPO_ROOT = path.resolve(CLI_ROOT, "..", "..");

/** A throwaway LangGraph JS project: langgraph.json, src/agent.ts (fixture/agent.ts), package.json. */
export interface FixtureProject {
  dir: string;
  configPath: string;
  /** Writes another langgraph.json (graphs and any other keys) under `name`, returns its path. */
  writeConfig(name: string, config: Record<string, unknown>): string;
  remove(): void;
}

/**
 * `parent` decides where node_modules come from: a project under the repo finds the repo's packages by walking up
 * (and `ownPeers` gives it private copies of the LangChain peers); one under the OS temp dir gets what is
 * installed into it.
 */
export function createFixtureProject(options: { under: "repo" | "tmp"; ownPeers?: boolean; graphs?: Record<string, unknown> }): FixtureProject {
  const base = options.under === "repo" ? path.join(REPO_ROOT, ".runline", "cli-tests") : os.tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(path.join(base, "project-"));
  mkdirSync(path.join(dir, "src"));
  writeFileSync(path.join(dir, "src", "agent.ts"), readFileSync(path.join(__dirname, "fixture", "agent.ts")));
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "fixture-project", private: true, version: "1.0.0" }, null, 2));
  if (options.ownPeers) {
    // Real copies, not links: Node would resolve a link to the repo's copy and the project would share it.
    for (const name of ["core", "langgraph", "langgraph-checkpoint"]) {
      cpSync(path.join(REPO_ROOT, "node_modules", "@langchain", name), path.join(dir, "node_modules", "@langchain", name), { recursive: true });
    }
  }
  const writeConfig = (name: string, config: Record<string, unknown>) => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(config, null, 2));
    return file;
  };
  const configPath = writeConfig("langgraph.json", {
    node_version: "20",
    dependencies: ["."],
    graphs: options.graphs ?? { agent: "./src/agent.ts:graph", factory: { path: "./src/agent.ts:makeGraph", description: "a factory" } },
    env: { FIXTURE_FROM_CONFIG: "1" },
  });
  return { dir, configPath, writeConfig, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
