import { createTestNamespace, FAST_RECOVERY, startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis, type TestNamespace } from "@runline/testing";
import { auditJournal, readRange } from "@runline/journal";
import { createRunQueue, type RunQueue } from "@runline/queue";
import { startTestRunline, type TestRunline } from "../harness";
import { spawnWorker, type WorkerProcess } from "../worker-process";

export { FAST_RECOVERY };

export interface FaultRigOptions {
  /** A private Redis this test may restart and kill (`appendOnly`: persisted with AOF). Default: the shared one. */
  privateRedis?: { appendOnly?: boolean };
  /** A private Postgres this test may restart. Default: the shared one. */
  privatePostgres?: boolean;
  /** `all`: API and worker in this process; `api`: workers only as separate processes (`spawnWorker`). */
  role: "all" | "api";
  env?: Record<string, string>;
}

/** Runline on a test namespace, on servers the test may break, with worker processes it may kill. */
export interface FaultRig {
  ns: TestNamespace;
  runline: TestRunline;
  redis: PrivateRedis | null;
  postgres: PrivatePostgres | null;
  spawnWorker(env?: Record<string, string>): Promise<WorkerProcess>;
  /** The BullMQ state of the run's job (`unknown` when there is none). */
  jobState(runId: string): Promise<string>;
  close(): Promise<void>;
}

export async function startFaultRig(name: string, options: FaultRigOptions): Promise<FaultRig> {
  const redis = options.privateRedis ? await startPrivateRedis(options.privateRedis) : null;
  const postgres = options.privatePostgres ? await startPrivatePostgres() : null;
  const ns = await createTestNamespace(name, { redisUrl: redis?.url, databaseUrl: postgres?.url });
  const env = { ...FAST_RECOVERY, ...options.env };
  const runline = await startTestRunline(name, { RUNLINE_ROLE: options.role, ...env }, ns);
  const workers: WorkerProcess[] = [];
  let queue: RunQueue | null = null;
  return {
    ns,
    runline,
    redis,
    postgres,
    async spawnWorker(extra = {}) {
      const worker = spawnWorker(ns, { ...env, ...extra });
      workers.push(worker);
      await worker.ready;
      return worker;
    },
    jobState(runId) {
      queue ??= createRunQueue(ns.redis, ns.redisPrefix);
      return queue.jobState(runId);
    },
    async close() {
      await Promise.all(workers.map((w) => w.kill("SIGKILL")));
      await queue?.close();
      await runline.close();
      await ns.cleanup().catch(() => undefined);
      await redis?.stop();
      await postgres?.stop();
    },
  };
}

/** What a run's journal shows, read back as a subscriber would see it, plus its row. */
export interface RunAudit {
  status: string;
  attempt: number;
  /** `end` entries (must be exactly 1). */
  ends: number;
  /** Entries stored after the first `end` (must be 0). */
  afterEnd: number;
  /** Tokens of a message that began in an earlier attempt but arrived after a later attempt's `metadata`: two executions streaming at once. */
  interleaved: number;
  /** Text of the last message streamed by the last attempt, in journal order. */
  lastMessageText: string;
  /** Checkpoints of the thread written after the run's terminal status (must be 0 for a thread with one run). */
  checkpointsAfterEnd: number;
}

export async function auditRun(ns: TestNamespace, threadId: string, runId: string): Promise<RunAudit> {
  const entries = [];
  for await (const entry of readRange(ns.redis, ns.redisPrefix, runId)) entries.push(entry);
  const journal = auditJournal(entries);
  const { rows } = await ns.pool.query(`SELECT status, attempt, finished_at, thread_id FROM runs WHERE run_id = $1`, [runId]);
  // The run row names the thread by its storage key, as the checkpoints do (the public id is `threadId`).
  const { rows: late } = await ns.pool.query(
    `SELECT count(*)::int AS n FROM checkpoints WHERE thread_id = $1 AND (checkpoint->>'ts')::timestamptz > $2`,
    [rows[0]?.thread_id ?? threadId, rows[0]?.finished_at ?? new Date(8.64e15)],
  );
  return {
    status: rows[0]?.status ?? "missing",
    attempt: rows[0]?.attempt ?? 0,
    ends: journal.ends,
    afterEnd: journal.afterEnd,
    interleaved: journal.interleaved,
    lastMessageText: journal.lastMessageText,
    checkpointsAfterEnd: late[0].n,
  };
}
