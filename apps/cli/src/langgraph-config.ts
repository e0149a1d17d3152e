import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

const GraphSpec = z.union([
  z.string().min(1),
  // The documented object form; `description` is informational.
  z.object({ path: z.string().min(1), description: z.string().optional() }).passthrough(),
]);

const Cors = z
  .object({
    allow_origins: z.array(z.string()).optional(),
    allow_methods: z.array(z.string()).optional(),
    allow_headers: z.array(z.string()).optional(),
    allow_credentials: z.boolean().optional(),
    allow_origin_regex: z.string().optional(),
    expose_headers: z.array(z.string()).optional(),
    max_age: z.number().optional(),
  })
  .passthrough();

/** The keys of `langgraph.json` Runline reads; every other documented key is accepted and reported as ignored. */
const LanggraphJson = z
  .object({
    graphs: z.record(z.string(), GraphSpec).refine((g) => Object.keys(g).length > 0, "needs at least one graph"),
    env: z.union([z.string(), z.record(z.string(), z.coerce.string()), z.array(z.string())]).optional(),
    dependencies: z.array(z.string()).optional(),
    http: z.object({ cors: Cors.optional() }).passthrough().optional(),
  })
  .passthrough();

/** What `runline dev/up` takes from a project's `langgraph.json`. */
export interface ProjectConfig {
  configPath: string;
  projectDir: string;
  graphIds: string[];
  /** The module of the first graph: its format (ESM or CommonJS) decides how the peers are loaded. */
  firstGraphFile: string;
  /** `env` as a file (absolute path) or inline values. */
  env: { file: string } | { values: Record<string, string> } | null;
  /** `http.cors.allow_origins`, null when not set. */
  corsOrigins: string[] | null;
  /** Local `dependencies` entries, resolved; package names are only reported (Runline installs nothing). */
  localDependencies: string[];
  /** One line per key or value that is accepted but has no effect in Runline. */
  ignored: string[];
}

/** `--config` may name the file or the directory that holds `langgraph.json` (as `langgraph dev` allows). */
export function locateConfig(configArg: string, cwd = process.cwd()): string {
  const target = path.resolve(cwd, configArg);
  const file = existsSync(target) && statSync(target).isDirectory() ? path.join(target, "langgraph.json") : target;
  if (!existsSync(file)) throw new Error(`no ${path.basename(file)} at ${file} (run in the project folder, or pass --config path/to/langgraph.json)`);
  return file;
}

/** The file part of `./src/agent.ts:graph` (either form); the full check is the registry's, at start. */
function graphFile(spec: z.infer<typeof GraphSpec>): string {
  const value = typeof spec === "string" ? spec : spec.path;
  const colon = value.lastIndexOf(":");
  return colon > 1 ? value.slice(0, colon) : value;
}

export function readProjectConfig(configPath: string): ProjectConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, "utf8"));
  } catch (err) {
    throw new Error(`cannot read ${configPath}: ${(err as Error).message}`);
  }
  const parsed = LanggraphJson.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`${configPath} is not a valid langgraph.json:\n${lines.join("\n")}`);
  }
  const config = parsed.data;
  const projectDir = path.dirname(configPath);
  const ignored: string[] = [];
  const known = new Set(["graphs", "env", "dependencies", "http"]);
  for (const key of Object.keys(config)) if (!known.has(key)) ignored.push(`"${key}"`);

  // The LangGraph CLI refuses the array form too (it names secrets kept by the cloud deployment).
  if (Array.isArray(config.env)) throw new Error(`${configPath}: "env" as a list of names is for LangGraph Platform deployments; use a file path or an object`);
  const env = typeof config.env === "string" ? { file: path.resolve(projectDir, config.env) } : config.env ? { values: config.env } : null;

  const cors = config.http?.cors;
  for (const key of Object.keys(cors ?? {})) if (key !== "allow_origins") ignored.push(`"http.cors.${key}" (Runline allows its own fixed methods and headers)`);
  for (const key of Object.keys(config.http ?? {})) if (key !== "cors") ignored.push(`"http.${key}"`);

  const localDependencies: string[] = [];
  for (const dep of config.dependencies ?? []) {
    if (dep.startsWith(".") || path.isAbsolute(dep)) {
      const dir = path.resolve(projectDir, dep);
      if (!existsSync(path.join(dir, "package.json"))) throw new Error(`${configPath}: dependency "${dep}" has no package.json at ${dir}`);
      localDependencies.push(dir);
    } else {
      ignored.push(`dependency "${dep}" (install packages with npm; Runline uses the project's node_modules as they are)`);
    }
  }
  return {
    configPath,
    projectDir,
    graphIds: Object.keys(config.graphs),
    firstGraphFile: path.resolve(projectDir, graphFile(Object.values(config.graphs)[0])),
    env,
    corsOrigins: cors?.allow_origins ?? null,
    localDependencies,
    ignored,
  };
}
