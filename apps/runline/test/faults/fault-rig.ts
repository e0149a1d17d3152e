import { createTestNamespace, startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis, type TestNamespace } from "@runline/testing";
import { journalKeys } from "@runline/journal";
import { createRunQueue, type RunQueue } from "@runline/queue";
import { startTestRunline, type TestRunline } from "../harness";
import { spawnWorker, type WorkerProcess } from "../worker-process";

/** Short locks, stall checks and reconciler passes, so a lost step is repaired in seconds, not a minute. */
export const FAST_RECOVERY: Record<string, string> = {
  RUNLINE_LOCK_DURATION_MS: "1500",
  RUNLINE_STALLED_INTERVAL_MS: "500",
  RUNLINE_RECONCILE_INTERVAL_MS: "300",
  RUNLINE_RECONCILE_GRACE_MS: "1000",
  RUNLINE_CONTROL_POLL_MS: "300",
};

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
  const entries = await ns.redis.xrange(journalKeys(ns.redisPrefix).events(runId), "-", "+");
  let attempt = 0;
  let ends = 0;
  let afterEnd = 0;
  let interleaved = 0;
  const attemptOfMessage = new Map<string, number>();
  const textOf = new Map<string, string>();
  let lastMessage: string | null = null;
  for (const [, fields] of entries) {
    const event = fields[1];
    const data = JSON.parse(fields[3]);
    if (ends > 0) afterEnd++;
    if (event === "end") ends++;
    else if (event === "metadata") attempt = Math.max(attempt, Number(data.attempt ?? attempt));
    else if (event === "messages") {
      const id = String(data[0]?.id);
      if (!attemptOfMessage.has(id)) attemptOfMessage.set(id, attempt);
      else if (attemptOfMessage.get(id)! < attempt) interleaved++;
      textOf.set(id, (textOf.get(id) ?? "") + String(data[0]?.content ?? ""));
      lastMessage = id;
    }
  }
  const { rows } = await ns.pool.query(`SELECT status, attempt, finished_at FROM runs WHERE run_id = $1`, [runId]);
  const { rows: late } = await ns.pool.query(
    `SELECT count(*)::int AS n FROM checkpoints WHERE thread_id = $1 AND (checkpoint->>'ts')::timestamptz > $2`,
    [threadId, rows[0]?.finished_at ?? new Date(8.64e15)],
  );
  return {
    status: rows[0]?.status ?? "missing",
    attempt: rows[0]?.attempt ?? 0,
    ends,
    afterEnd,
    interleaved,
    lastMessageText: lastMessage ? textOf.get(lastMessage)! : "",
    checkpointsAfterEnd: late[0].n,
  };
}
