import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseEnv } from "node:util";
import type { CliCommand } from "./args";
import type { ProjectConfig } from "./langgraph-config";

type Serve = Extract<CliCommand, { command: "dev" | "up" }>;

/**
 * The environment Runline starts with: the caller's, plus the project's `env` (a file or an object) for names the
 * caller did not set (as the LangGraph CLI does: the shell wins over the file), plus what the flags and
 * `langgraph.json` decide. Graph modules see the same variables in `process.env`.
 */
export function projectEnvironment(cmd: Serve, project: ProjectConfig, base: NodeJS.ProcessEnv): { env: Record<string, string>; warnings: string[] } {
  const warnings: string[] = [];
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;

  let fromProject: Record<string, string> = {};
  if (project.env && "file" in project.env) {
    if (existsSync(project.env.file)) fromProject = parseEnv(readFileSync(project.env.file, "utf8")) as Record<string, string>;
    else warnings.push(`env file ${project.env.file} not found; continuing without it`);
  } else if (project.env) {
    fromProject = project.env.values;
  }
  for (const [key, value] of Object.entries(fromProject)) if (env[key] === undefined) env[key] = value;

  env.RUNLINE_CONFIG = project.configPath;
  // The tour drives the bundled story graph, which a user's project does not have.
  env.RUNLINE_DEMO = "0";
  // Private Redis/Postgres data belongs to the project, not to wherever the package is installed.
  env.RUNLINE_SERVICES_DIR ??= path.join(project.projectDir, ".runline", "services");
  if (cmd.command === "dev") {
    env.RUNLINE_ROLE = "all";
    env.HOST = cmd.host ?? "127.0.0.1";
    env.PORT = String(cmd.port ?? 2024);
  } else {
    if (cmd.role) env.RUNLINE_ROLE = cmd.role;
    if (cmd.host) env.HOST = cmd.host;
    if (cmd.port !== undefined) env.PORT = String(cmd.port);
  }
  if (cmd.jobsPerWorker) env.RUNLINE_WORKER_CONCURRENCY = String(cmd.jobsPerWorker);
  if (project.corsOrigins) env.RUNLINE_CORS_ORIGINS = project.corsOrigins.join(",");
  return { env, warnings };
}
