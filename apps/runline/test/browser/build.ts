import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "../../../..");
export const EXAMPLE_DIR = path.join(REPO_ROOT, "examples/web");
export const EXAMPLE_DIST = path.join(EXAMPLE_DIR, "dist");

/** Newest modification time among the files the bundle is built from. */
function newestSource(): number {
  let newest = 0;
  const visit = (p: string) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ["src", "index.html", "legacy.html", "vite.config.ts", "package.json"]) visit(path.join(EXAMPLE_DIR, p));
  // A different SDK or React version (npm install) changes the bundle too.
  for (const dep of ["@langchain/langgraph-sdk", "@langchain/react", "react", "react-dom"]) visit(path.join(REPO_ROOT, "node_modules", dep, "package.json"));
  return newest;
}

/** Builds examples/web with Vite when dist/ is missing or older than its sources; returns the dist folder. */
export function ensureExampleBuilt({ timeoutMs = 180_000 }: { timeoutMs?: number } = {}): string {
  const index = path.join(EXAMPLE_DIST, "index.html");
  if (existsSync(index) && statSync(index).mtimeMs >= newestSource()) return EXAMPLE_DIST;
  const vite = path.join(REPO_ROOT, "node_modules/vite/bin/vite.js");
  if (!existsSync(vite)) {
    throw new Error(`Vite is not installed (${vite} is missing): run 'npm install' at the repository root (examples/web is an npm workspace).`);
  }
  const res = spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], { cwd: EXAMPLE_DIR, encoding: "utf8", timeout: timeoutMs });
  if (res.status !== 0 || !existsSync(index)) {
    throw new Error(`Building examples/web failed (exit ${res.status}${res.error ? `, ${String(res.error)}` : ""}):\n${res.stdout}\n${res.stderr}`);
  }
  return EXAMPLE_DIST;
}
