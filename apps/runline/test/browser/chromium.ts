import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

/** Where Debian's `chromium` package puts the browser. `RUNLINE_CHROMIUM` overrides it. */
export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

/**
 * Flags for headless Chromium on this kind of machine: no sandbox (we run as root), no GPU, and none of the
 * background connections to Google's hosts, which the closed network refuses (many at a time otherwise).
 */
export function chromiumArgs(): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
  ];
}

const HOW_TO_INSTALL =
  "Install it with 'sudo apt-get update && sudo apt-get install -y chromium' (Debian/Ubuntu), or point RUNLINE_CHROMIUM " +
  "at a Chromium/Chrome binary. 'npx playwright install' is not needed (and cannot download browsers on a closed network).";

function run(cmd: string, args: string[], timeoutMs: number): { ok: boolean; output: string } {
  const res = spawnSync(cmd, args, {
    encoding: "utf8",
    timeout: timeoutMs,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${res.stdout ?? ""}${res.stderr ?? ""}`;
  if (res.error) return { ok: false, output: `${output}\n${String(res.error)}` };
  return { ok: res.status === 0, output };
}

/**
 * The path of a Chromium binary, installing Debian's `chromium` package first when it is missing and we are
 * root with apt-get (bounded by `timeoutMs`). Throws with the install command when neither works: a browser
 * test that cannot find a browser fails, it never skips silently.
 */
export function ensureChromium({ timeoutMs = 8 * 60_000 }: { timeoutMs?: number } = {}): string {
  const override = process.env.RUNLINE_CHROMIUM;
  if (override) {
    if (existsSync(override)) return override;
    throw new Error(`RUNLINE_CHROMIUM=${override} does not exist. ${HOW_TO_INSTALL}`);
  }
  if (existsSync(DEFAULT_CHROMIUM)) return DEFAULT_CHROMIUM;

  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const hasApt = run("sh", ["-c", "command -v apt-get"], 5_000).ok;
  if (!isRoot || !hasApt) {
    throw new Error(`The browser test needs Chromium at ${DEFAULT_CHROMIUM} and cannot install it here (${isRoot ? "no apt-get" : "not root"}). ${HOW_TO_INSTALL}`);
  }
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1_000, deadline - Date.now());
  process.stderr.write(`runline browser test: ${DEFAULT_CHROMIUM} is missing; installing Debian's chromium package (apt-get)…\n`);
  // Waits for another apt/dpkg (e.g. the test scripts installing Postgres) instead of failing on its lock.
  const lock = ["-o", "DPkg::Lock::Timeout=120"];
  const update = run("apt-get", [...lock, "update"], left());
  const install = run("apt-get", [...lock, "install", "-y", "--no-install-recommends", "chromium", "fonts-liberation"], left());
  if (!install.ok || !existsSync(DEFAULT_CHROMIUM)) {
    const tail = (s: string) => s.split("\n").slice(-15).join("\n");
    throw new Error(
      `Could not install Chromium with apt-get (within ${Math.round(timeoutMs / 1000)} s).\n` +
        `apt-get update said:\n${tail(update.output)}\napt-get install said:\n${tail(install.output)}\n${HOW_TO_INSTALL}`,
    );
  }
  return DEFAULT_CHROMIUM;
}

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh, empty profile (a new `--user-data-dir`, which Playwright takes through
 * launchPersistentContext), removed again on close.
 */
export async function launchChromium(executablePath: string): Promise<LaunchedBrowser> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), "runline-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: chromiumArgs(),
    viewport: { width: 900, height: 900 },
    timeout: 60_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
