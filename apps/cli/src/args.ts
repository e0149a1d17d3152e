import { parseArgs } from "node:util";

/** `runline dev` / `runline up`, with the LangGraph CLI's flags where they mean something here. */
export type CliCommand =
  | { command: "help" }
  | { command: "version" }
  | { command: "dev" | "up"; config: string; port?: number; host?: string; role?: "all" | "api" | "worker"; jobsPerWorker?: number };

export const USAGE = `Usage:
  runline dev [-c, --config langgraph.json] [-p, --port 2024] [--host 127.0.0.1] [-n, --n-jobs-per-worker N]
  runline up  [-c, --config langgraph.json] [-p, --port 2024] [--host HOST] [--role all|api|worker] [-n N]

  dev  API and worker in one process, for a laptop (binds 127.0.0.1:2024 unless told otherwise).
  up   The production roles: --role api (HTTP only), worker (runs graphs), all (both; the default).
       Settings come from the environment as for \`npm start\` (PORT, HOST, RUNLINE_*); flags override them.

  --config   a langgraph.json, or the directory holding one (default: ./langgraph.json)
  Accepted for compatibility and ignored: --no-browser, --no-reload (Runline does not open a browser or reload).
  Redis and Postgres: REDIS_URL / DATABASE_URL, else local servers on 6379 / 5432, else private ones it starts.`;

/** Flags of `langgraph dev` that Runline cannot honour: refused rather than silently ignored. */
const UNSUPPORTED = ["tunnel", "debug-port", "wait-for-client", "allow-blocking", "studio-url"];

function positiveInt(name: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 65535) throw new Error(`--${name} must be an integer from ${min} to 65535, got "${value}"`);
  return n;
}

/** Parses argv (without node and the script); throws an Error whose message is fit for the terminal. */
export function parseCliArgs(argv: string[]): CliCommand {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") return { command: "help" };
  if (command === "--version" || command === "-v" || command === "version") return { command: "version" };
  if (command !== "dev" && command !== "up") throw new Error(`unknown command "${command}"\n\n${USAGE}`);
  const unsupported = rest.find((a) => UNSUPPORTED.some((u) => a === `--${u}` || a.startsWith(`--${u}=`)));
  if (unsupported) throw new Error(`${unsupported} is a langgraph dev flag Runline does not support`);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: "string", short: "c" },
      port: { type: "string", short: "p" },
      host: { type: "string" },
      role: { type: "string" },
      "n-jobs-per-worker": { type: "string", short: "n" },
      "no-browser": { type: "boolean" },
      "no-reload": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return { command: "help" };
  const role = values.role;
  if (role !== undefined && role !== "all" && role !== "api" && role !== "worker") throw new Error(`--role must be all, api or worker, got "${role}"`);
  if (role !== undefined && command === "dev") throw new Error("--role is for `runline up`; `runline dev` always runs the API and the worker");
  return {
    command,
    config: values.config ?? "langgraph.json",
    port: positiveInt("port", values.port, 0),
    host: values.host,
    role,
    jobsPerWorker: positiveInt("n-jobs-per-worker", values["n-jobs-per-worker"]),
  };
}
