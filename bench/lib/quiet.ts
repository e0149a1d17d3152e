import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** Total and idle jiffies of all CPUs from /proc/stat (null where /proc is unavailable). */
function cpuTimes(): { total: number; idle: number } | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = v[3]! + (v[4] ?? 0); // idle + iowait
    return { total: v.reduce((a, b) => a + b, 0), idle };
  } catch {
    return null;
  }
}

/** Share of the machine's CPU time that was busy (0..1) over `ms`, whoever used it. */
export async function machineBusy(ms: number): Promise<number> {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  if (!a || !b || b.total === a.total) return Number.NaN;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Waits (up to `maxWaitMs`) until the machine is quiet: under `threshold` busy over 3 consecutive 1 s windows. Other
 * sessions share this machine; a benchmark run next to their builds and tests would measure them. Returns the busy
 * share of the last window and whether the machine was quiet.
 */
export async function waitForQuiet(maxWaitMs: number, threshold = 0.15, log = (s: string) => console.error(s)): Promise<{ busy: number; quiet: boolean; waitedMs: number }> {
  const start = Date.now();
  let calm = 0;
  let busy = Number.NaN;
  let warned = false;
  while (Date.now() - start < maxWaitMs) {
    busy = await machineBusy(1000);
    if (!Number.isFinite(busy)) return { busy, quiet: true, waitedMs: Date.now() - start };
    calm = busy < threshold ? calm + 1 : 0;
    if (calm >= 3) return { busy, quiet: true, waitedMs: Date.now() - start };
    if (!warned && busy >= threshold) {
      log(`bench: machine busy (${(busy * 100).toFixed(0)}% of all cores, not us); waiting up to ${Math.round(maxWaitMs / 1000)} s for it to calm down …`);
      warned = true;
    }
  }
  log(`bench: WARNING: machine still busy (${(busy * 100).toFixed(0)}%) after ${Math.round(maxWaitMs / 1000)} s; measuring anyway`);
  return { busy, quiet: false, waitedMs: Date.now() - start };
}

/** utime + stime of a process in seconds (from /proc/<pid>/stat), NaN if unavailable. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

/** The pid and every live descendant (a `RUNLINE_PROCESSES` cluster's children), from /proc. */
export function processTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      /* gone */
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
  return out;
}

/** CPU seconds of a process and its live descendants: what "the Runline process" costs when it is a cluster. */
export function treeCpuSeconds(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + (processCpuSeconds(pid) || 0), 0);
}

/** CPU seconds used so far by every live process whose command name matches (e.g. postgres backends, redis-server). */
function servicesCpuSeconds(names: RegExp, keep: (pid: number, comm: string) => boolean = () => true): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (!names.test(comm) || !keep(Number(pid), comm)) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(pid), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

const SERVICES = /^(postgres|redis-server)$/;

export interface CpuShare {
  /** Cores' worth of CPU the whole machine used (0..nproc), anyone's. */
  machineCores: number;
  /** Cores' worth this benchmark process used. */
  benchCores: number;
  /** Cores' worth the Runline process used (own-process mode; NaN otherwise). */
  runlineCores: number;
  /** Cores' worth Postgres (all backends) and Redis used (processes alive at both ends of the interval). */
  servicesCores: number;
  /** What is left: other sessions' processes on this machine (should be ~0 for a clean measurement). */
  othersCores: number;
}

/**
 * CPU use over a measured interval: the machine's, this process's, (optionally) another process's, and the services'
 * (Redis, and Postgres: only the backends in `pgBackends` when given, every Postgres process otherwise).
 */
export function startCpuMonitor(otherPid?: number, pgBackends?: Set<number> | null): { stop(): CpuShare } {
  const wall0 = process.hrtime.bigint();
  const m0 = cpuTimes();
  const self0 = process.cpuUsage();
  const other0 = otherPid && otherPid !== process.pid ? treeCpuSeconds(otherPid) : Number.NaN;
  const isOurs = (pid: number, comm: string) => comm !== "postgres" || !pgBackends || pgBackends.has(pid);
  const services0 = servicesCpuSeconds(SERVICES, isOurs);
  const ncpu = (() => {
    try {
      return readFileSync("/proc/stat", "utf8").split("\n").filter((l) => /^cpu\d+ /.test(l)).length || 1;
    } catch {
      return 1;
    }
  })();
  return {
    stop() {
      const wallS = Number(process.hrtime.bigint() - wall0) / 1e9;
      const m1 = cpuTimes();
      const self = process.cpuUsage(self0);
      const other1 = otherPid && otherPid !== process.pid ? treeCpuSeconds(otherPid) : Number.NaN;
      const machine = m0 && m1 && m1.total > m0.total ? (1 - (m1.idle - m0.idle) / (m1.total - m0.total)) * ncpu : Number.NaN;
      let services = 0;
      for (const [pid, cpu] of servicesCpuSeconds(SERVICES, isOurs)) services += cpu - (services0.get(pid) ?? cpu);
      const benchCores = (self.user + self.system) / 1e6 / wallS;
      const runlineCores = (other1 - other0) / wallS;
      const servicesCores = services / wallS;
      return {
        machineCores: machine,
        benchCores,
        runlineCores,
        servicesCores,
        othersCores: machine - benchCores - (Number.isFinite(runlineCores) ? runlineCores : 0) - servicesCores,
      };
    },
  };
}

/**
 * CPU seconds so far of the processes that are "us": the given pids and their children, Redis (one server, shared:
 * counted as ours), and Postgres backends — only ours when `pgBackends` is known (other sessions run test suites on
 * the same Postgres; their backends are theirs), all of them otherwise.
 */
function oursCpuSeconds(ownPids: Set<number>, pgBackends: Set<number> | null): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const pid = Number(p);
      const ppid = Number(fields[1]);
      const service = comm === "redis-server" || (comm === "postgres" && (pgBackends ? pgBackends.has(pid) : true));
      if (!ownPids.has(pid) && !ownPids.has(ppid) && !service) continue;
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/**
 * Detects other sessions' work on this shared machine while we measure: CPU used by the machine minus what this
 * benchmark, its children, the Runline process and Postgres/Redis used, since the last {@link QuietGate.reset}. A
 * sample taken while others were busy is discarded and re-taken once they are quiet again, so the numbers describe
 * Runline, not a neighbour's test suite.
 */
export class QuietGate {
  private readonly own: Set<number>;
  private start = this.snapshot();
  discarded = 0;
  waitedMs = 0;
  /** Other processes' CPU (cores) during each kept sample. */
  readonly keptOthers: number[] = [];

  private pgBackends: Set<number> | null = null;

  /**
   * @param ownPids this process and the Runline process (their children count as ours too)
   * @param listPgBackends pids of the Postgres backends serving us (e.g. from pg_stat_activity by application_name);
   *   refreshed before every sample. Without it every Postgres process counts as ours.
   */
  constructor(
    ownPids: number[],
    private readonly listPgBackends?: () => Promise<number[]>,
    readonly thresholdCores = 0.35,
    readonly maxTotalWaitMs = 15 * 60_000,
  ) {
    this.own = new Set(ownPids);
    this.start = this.snapshot();
  }

  private snapshot() {
    return { at: process.hrtime.bigint(), machine: cpuTimes(), ours: oursCpuSeconds(this.own ?? new Set(), this.pgBackends ?? null) };
  }

  /** The Postgres backends last found to be ours (null: unknown, count all). */
  ourPgBackends(): Set<number> | null {
    return this.pgBackends;
  }

  /** Re-reads which Postgres backends are ours (pools open and close connections). */
  async refresh(): Promise<void> {
    if (!this.listPgBackends) return;
    try {
      this.pgBackends = new Set(await this.listPgBackends());
    } catch {
      this.pgBackends = null;
    }
  }

  reset(): void {
    this.start = this.snapshot();
  }

  /** Cores' worth of CPU used by anything that is not us since the last reset. */
  othersCores(): number {
    const end = this.snapshot();
    const a = this.start.machine;
    const b = end.machine;
    if (!a || !b || b.total <= a.total) return 0;
    const wallS = Number(end.at - this.start.at) / 1e9;
    const ncpu = (b.total - a.total) / 100 / wallS; // jiffies per second / USER_HZ ≈ number of CPUs
    const machineCores = (1 - (b.idle - a.idle) / (b.total - a.total)) * ncpu;
    let ours = 0;
    for (const [pid, cpu] of end.ours) ours += cpu - (this.start.ours.get(pid) ?? cpu);
    return machineCores - ours / wallS;
  }

  /** True when the interval since the last reset was clean. Otherwise counts a discard and waits for quiet. */
  async accept(log = (s: string) => console.error(s)): Promise<boolean> {
    const others = this.othersCores();
    if (others < this.thresholdCores) {
      this.keptOthers.push(others);
      return true;
    }
    this.discarded += 1;
    if (this.waitedMs >= this.maxTotalWaitMs) return true; // waited long enough overall: keep measuring, it is flagged
    const t0 = Date.now();
    let calm = 0;
    log(`bench: other processes used ${others.toFixed(2)} cores during that sample; discarded, waiting for quiet …`);
    while (calm < 3 && this.waitedMs + (Date.now() - t0) < this.maxTotalWaitMs) {
      await this.refresh();
      this.reset();
      await sleep(1000);
      calm = this.othersCores() < this.thresholdCores ? calm + 1 : 0;
    }
    this.waitedMs += Date.now() - t0;
    this.reset();
    return false;
  }

  /** Runs `one` until it ran while nobody else was busy (or the overall wait budget is spent). */
  async measure<T>(one: () => Promise<T>): Promise<T> {
    for (;;) {
      await this.refresh();
      this.reset();
      const result = await one();
      if (await this.accept()) return result;
    }
  }
}

/**
 * The namespace's database URL tagged with `application_name` (so {@link QuietGate} can tell our Postgres backends
 * from other sessions'), plus optional extra server `options` (which then must carry the search_path too: pg lets
 * the URL's options replace the pool's).
 */
export function taggedDatabaseUrl(databaseUrl: string, tag: string, extraOptions?: { schema: string; options: string }): string {
  const url = new URL(databaseUrl);
  url.searchParams.set("application_name", tag);
  if (extraOptions) url.searchParams.set("options", `-c search_path=${extraOptions.schema} ${extraOptions.options}`);
  return url.toString();
}

/** Lists the backend pids of `application_name = tag` (run on any pool of ours). */
export function pgBackendsOf(pool: { query: (sql: string, params: unknown[]) => Promise<{ rows: Array<{ pid: number }> }> }, tag: string) {
  return async () => (await pool.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [tag])).rows.map((r) => Number(r.pid));
}
