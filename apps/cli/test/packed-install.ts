import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CLI_ROOT, REPO_ROOT } from "./fixture-project";

const run = promisify(execFile);

/** npm, with none of the outer `npm test`'s npm_* variables (npm_config_local_prefix would install into the repo). */
function npm(args: string[], cwd: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith("npm_")));
  return run("npm", args, { cwd, env, maxBuffer: 16 * 1024 * 1024 });
}

const repoVersion = (name: string) => require(path.join(REPO_ROOT, "node_modules", name, "package.json")).version as string;

/**
 * `npm pack` of apps/cli (its prepack builds dist/), then `npm install` of that tarball plus the LangChain peers
 * into `projectDir`, an unrelated project. `--prefer-offline`: the versions are the repo's, so npm's cache
 * already holds them and the registry is asked only for what it lacks. Returns the installed `runline` bin.
 */
export async function installPackedCli(projectDir: string): Promise<{ bin: string; tarball: string; cleanup(): void }> {
  const packDir = mkdtempSync(path.join(os.tmpdir(), "runline-pack-"));
  await npm(["pack", "--pack-destination", packDir], CLI_ROOT);
  const tarball = path.join(packDir, readdirSync(packDir).find((f) => f.endsWith(".tgz"))!);
  await npm(
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      tarball,
      `@langchain/core@${repoVersion("@langchain/core")}`,
      `@langchain/langgraph@${repoVersion("@langchain/langgraph")}`,
    ],
    projectDir,
  );
  return { bin: path.join(projectDir, "node_modules", ".bin", "runline"), tarball, cleanup: () => rmSync(packDir, { recursive: true, force: true }) };
}
