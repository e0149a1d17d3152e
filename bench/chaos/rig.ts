import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  createTestNamespace,
  FAST_RECOVERY,
  freePort,
  namespaceEnv,
  startPrivatePostgres,
  startPrivateRedis,
  type PrivatePostgres,
  type PrivateRedis,
  type TestNamespace,
} from "@runline/testing";
import { Api } from "./api";
import { spawnRunline, type RunlineProcess } from "./processes";

export { FAST_RECOVERY };

/**
 * The suite is one tenant creating hundreds of runs at once to break things under load; the per-tenant quotas
 * (100 active runs, 600 per minute by default) would refuse it first. Quotas have tests of their own.
 */
const LOAD_QUOTAS = { RUNLINE_TENANT_MAX_ACTIVE_RUNS: "10000", RUNLINE_TENANT_RUNS_PER_MINUTE: "100000" };

export interface RigOptions {
  /** A private Redis the scenario may restart (`appendOnly`: AOF, fsync always). Default: the shared one. */
  privateRedis?: { appendOnly?: boolean };
  /** A private Postgres the scenario may restart. Default: the shared one. */
  privatePostgres?: boolean;
  env?: Record<string, string>;
}

/**
 * Runline on a namespace of its own: one API process (`--role api`) and as many worker processes as the
 * scenario spawns, on servers it may break. Everything runs as deployed, in its own OS process, so a fault
 * hits Runline and not the suite, and "recovered without a restart" means the same processes answer.
 */
export class ChaosRig {
  readonly processes: RunlineProcess[] = [];
  private workerCount = 0;

  private constructor(
    readonly ns: TestNamespace,
    readonly redis: PrivateRedis | null,
    readonly postgres: PrivatePostgres | null,
    readonly env: Record<string, string>,
    readonly apiProcess: RunlineProcess,
    readonly api: Api,
  ) {}

  static async start(name: string, options: RigOptions = {}): Promise<ChaosRig> {
    const redis = options.privateRedis ? await startPrivateRedis(options.privateRedis) : null;
    const postgres = options.privatePostgres ? await startPrivatePostgres() : null;
    const ns = await createTestNamespace(`chaos_${name}`, { redisUrl: redis?.url, databaseUrl: postgres?.url });
    const env = { ...namespaceEnv(ns), ...FAST_RECOVERY, ...LOAD_QUOTAS, ...options.env };
    const port = await freePort();
    const apiProcess = spawnRunline("api", "api", { ...env, HOST: "127.0.0.1", PORT: String(port) });
    const rig = new ChaosRig(ns, redis, postgres, env, apiProcess, new Api(`http://127.0.0.1:${port}`));
    rig.processes.push(apiProcess);
    try {
      await apiProcess.ready;
    } catch (err) {
      await rig.close();
      throw err;
    }
    return rig;
  }

  /** Starts a worker process (`--role worker`); `wait: false` returns before it takes jobs. */
  async spawnWorker(wait = true): Promise<RunlineProcess> {
    const worker = spawnRunline(`worker-${++this.workerCount}`, "worker", this.env);
    this.processes.push(worker);
    if (wait) await worker.ready;
    return worker;
  }

  /** The workers that are running now (a SIGSTOPped one counts: it is alive, just frozen). */
  liveWorkers(): RunlineProcess[] {
    return this.processes.filter((p) => p !== this.apiProcess && p.alive());
  }

  /** Writes every process's log tail to `dir` (replacing what an earlier run of the scenario left). */
  writeLogs(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const p of this.processes) writeFileSync(path.join(dir, `${p.name}.log`), `${p.tail().join("\n")}\n`);
  }

  /** Kills every process, drops the namespace, stops the private servers; never throws. */
  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill("SIGKILL")));
    // A server a scenario left down must answer again before the namespace can be dropped.
    await this.postgres?.start().catch(() => undefined);
    await this.redis?.start().catch(() => undefined);
    await withTimeout(this.ns.cleanup(), 15_000).catch((err) => console.error(`chaos: namespace ${this.ns.id} not dropped: ${err}`));
    await this.redis?.stop().catch(() => undefined);
    await this.postgres?.stop().catch(() => undefined);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
