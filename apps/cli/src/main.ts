import { readFileSync } from "node:fs";
import path from "node:path";
import { parseCliArgs, USAGE, type CliCommand } from "./args";
import { locateConfig, readProjectConfig } from "./langgraph-config";
import { usePeersOf } from "./peer-resolution";
import { projectEnvironment } from "./project-env";
import { rerunWithServices, SERVICES_READY, withServicesScript } from "./services";

export interface CliContext {
  /** Directory of the installed package (or apps/cli in a checkout). */
  packageRoot: string;
}

const say = (line: string) => process.stderr.write(`runline: ${line}\n`);

/**
 * `runline dev|up`. Two processes: the first reads langgraph.json and re-runs itself under with-services.sh
 * (Redis and Postgres found or started); the second routes the LangChain peers to the project's copies, then
 * loads Runline and the graphs. Nothing here imports @langchain/* before that routing is in place.
 */
export async function main(argv: string[], context: CliContext): Promise<number> {
  let cmd: CliCommand;
  try {
    cmd = parseCliArgs(argv);
  } catch (err) {
    say((err as Error).message);
    return 2;
  }
  if (cmd.command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (cmd.command === "version") {
    process.stdout.write(`${JSON.parse(readFileSync(path.join(context.packageRoot, "package.json"), "utf8")).version}\n`);
    return 0;
  }
  try {
    const project = readProjectConfig(locateConfig(cmd.config));
    const { env, warnings } = projectEnvironment(cmd, project, process.env);
    if (!process.env[SERVICES_READY]) {
      for (const warning of warnings) say(`warning: ${warning}`);
      if (project.ignored.length) say(`ignored in ${path.basename(project.configPath)}: ${project.ignored.join(", ")}`);
      return await rerunWithServices(withServicesScript(context.packageRoot), [process.argv[1], ...argv], env, process.cwd());
    }
    // Graph modules read their settings (API keys, base URLs) from process.env, as under `langgraph dev`.
    Object.assign(process.env, env);
    const peers = usePeersOf(project.projectDir, project.firstGraphFile, path.join(context.packageRoot, "bin", "peer-hook.mjs"));
    say(`LangChain peers from the project: ${Object.values(peers).filter(Boolean).map((p) => `${p.name}@${p.version} (${p.dir})`).join(", ")}`);
    // Only now: this import is what loads @langchain/* (through Runline) for the first time.
    const { serve } = await import("./serve.js");
    return await serve(project.graphIds, (line) => process.stdout.write(`runline: ${line}\n`));
  } catch (err) {
    say(`failed to start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
