import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { trackDir } from "./orphans";

const run = promisify(execFile);

/** The OS identity the private Postgres runs as: undefined means "this process's own user". */
export interface PgOwner {
  uid: number;
  gid: number;
}

/** Directory with initdb and postgres: PATH first, else the highest /usr/lib/postgresql/<major>/bin (Debian). */
export function pgBinDir(): string {
  const candidates = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  const debian = "/usr/lib/postgresql";
  if (fs.existsSync(debian)) {
    const majors = fs.readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((v) => path.join(debian, v, "bin")));
  }
  const found = candidates.find((d) => fs.existsSync(path.join(d, "initdb")) && fs.existsSync(path.join(d, "postgres")));
  if (!found) throw new Error("private Postgres: no initdb/postgres on PATH or under /usr/lib/postgresql/*/bin (apt-get install postgresql)");
  return found;
}

/**
 * initdb and postgres refuse to run as root. As root, run them as the `postgres` OS user (which the Debian
 * package creates); as anyone else, run them as ourselves.
 */
export function pgOwner(): PgOwner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    // `id` rather than /etc/passwd: it also sees users from NSS (LDAP, sssd).
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    return { uid, gid };
  } catch {
    throw new Error(
      "private Postgres: running as root, postgres refuses root, and there is no 'postgres' OS user to run it as. " +
        "Create one (useradd --system postgres) or run the tests as a non-root user.",
    );
  }
}

/** A fresh directory under os.tmpdir() that `owner` can use (owned by it, and every parent searchable by it). */
export function makeOwnedDir(prefix: string, owner: PgOwner | undefined): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (!owner) return dir;
  fs.chownSync(dir, owner.uid, owner.gid);
  for (let p = path.dirname(dir); ; p = path.dirname(p)) {
    const st = fs.statSync(p);
    // libuv drops supplementary groups when it switches uid, so only "other", owner and primary group count.
    const searchable = st.mode & 0o001 || (st.uid === owner.uid && st.mode & 0o100) || (st.gid === owner.gid && st.mode & 0o010);
    if (!searchable) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`private Postgres: the postgres user cannot reach ${dir} (${p} is not searchable); set TMPDIR=/tmp`);
    }
    if (p === path.dirname(p)) return dir;
  }
}

let template: Promise<string> | undefined;

/**
 * A data directory initialised once per process (trust auth, UTF8, C locale); every server starts from a copy,
 * which takes tens of milliseconds where initdb takes about half a second.
 */
export function templateDataDir(bin: string, owner: PgOwner | undefined): Promise<string> {
  if (template) return template;
  template = (async () => {
    const base = makeOwnedDir("runline-pg-template-", owner);
    trackDir(base);
    const data = path.join(base, "data");
    const args = ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"];
    try {
      await run(path.join(bin, "initdb"), args, { cwd: base, uid: owner?.uid, gid: owner?.gid });
    } catch (err: any) {
      throw new Error(`private Postgres: initdb failed: ${err.stderr || err.message}`);
    }
    return data;
  })();
  // A failure must not stick: the next caller tries again.
  template.catch(() => (template = undefined));
  return template;
}

/** Copies the template into `target`, keeping its owner and 0700 mode (postgres insists on both). */
export async function copyDataDir(templateData: string, target: string): Promise<void> {
  await run("cp", ["-a", templateData, target]);
}
