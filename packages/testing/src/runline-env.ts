import path from "node:path";
import type { TestNamespace } from "./namespace";

const REPO_ROOT = path.resolve(__dirname, "../../..");

/**
 * The environment that points a Runline (in this process through `loadConfig`, or a child process) at a test
 * namespace: its Redis and Postgres, its private schema and key prefix, and the repository's graphs file.
 */
export function namespaceEnv(ns: TestNamespace): Record<string, string> {
  return {
    REDIS_URL: ns.redisUrl,
    DATABASE_URL: ns.databaseUrl,
    RUNLINE_DB_SCHEMA: ns.schema,
    RUNLINE_REDIS_PREFIX: ns.redisPrefix,
    RUNLINE_CONFIG: path.join(REPO_ROOT, "runline.json"),
  };
}
