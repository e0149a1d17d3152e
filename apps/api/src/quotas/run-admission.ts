import type Redis from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { DependencyUnavailableError, QuotaExceededError } from "@runline/core";
import { RunsRepo, type QuotaCounts, type Queryable } from "@runline/db";
import { quotaKeys } from "./quota-keys";

/** The limits a new run must fit in. */
export interface RunAdmissionLimits {
  /** Runs pending or running per tenant. */
  tenantActiveRuns: number;
  /** Runs pending or running, all tenants together. */
  activeRuns: number;
  /** Run creations per tenant per minute. */
  tenantRunsPerMinute: number;
}

/** The quota lock a creation takes first, in its transaction's opening (see {@link RunAdmission.lockFor}). */
export interface QuotaLock {
  mode: "shared" | "exclusive";
  /** The statement that takes it (values inlined). */
  statement: string;
}

/**
 * Decides whether a tenant may create one more run. The quota lock is taken in the creation's transaction, with
 * the thread lock, and the counts are read right after it ({@link RunAdmission.lockFor}); the decision
 * ({@link RunAdmission.admit}) comes after every check of the request passed, and the rate is consumed only by a
 * creation that passed it: a refused or invalid request never counts against a quota.
 *
 * One exclusive lock per tenant would serialise every creation of the tenant, each holding it to the end of its
 * transaction: under a burst (400 runs at once) they queue on it while holding pool connections the workers need,
 * and runs start one by one. So creations far from the limit take the lock shared and do not wait for each other.
 * The invariant is committed runs + open shared creations ≤ limit: a shared creation is admitted only when the
 * count plus `max_connections` (Postgres never has more transactions open than that) fits, and an exclusive one
 * counts only after every shared holder committed. Near the limit: exclusive.
 */
export class RunAdmission {
  private readonly limiter: RateLimiterRedis;
  private maxConnections: Promise<number> | null = null;

  constructor(
    redis: Redis,
    prefix: string,
    private readonly runs: RunsRepo,
    private readonly limits: RunAdmissionLimits,
  ) {
    // In Redis, so the rate holds however many API processes share the tenant's traffic.
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: quotaKeys(prefix).runCreationsPrefix,
      points: limits.tenantRunsPerMinute,
      duration: 60,
    });
  }

  /** Before the transaction: the quota lock to take first. Reads `max_connections` once per process. */
  async lockFor(tenantId: string): Promise<QuotaLock> {
    // A limit within `bound` of zero is always "near": no shared attempt first.
    const mode = (await this.bound()) < this.limits.tenantActiveRuns ? "shared" : "exclusive";
    return { mode, statement: RunsRepo.quotaLockStatement(tenantId, mode) };
  }

  /**
   * Throws {@link QuotaExceededError} (429) when the run does not fit the active-run limits. `held` is the lock
   * taken by {@link RunAdmission.lockFor}'s statement and the counts read after it in the same transaction; without
   * it the lock is taken and the counts read here.
   */
  async admit(tx: Queryable, tenantId: string, held?: { lock: QuotaLock; counts: QuotaCounts }): Promise<void> {
    const lock = held?.lock ?? (await this.lockFor(tenantId));
    let active = held?.counts ?? (await this.runs.countActiveForQuota(tx, tenantId, lock.mode));
    if (lock.mode === "shared" && active.tenant + (await this.bound()) > this.limits.tenantActiveRuns) {
      await this.runs.dropQuotaLock(tx);
      active = await this.runs.countActiveForQuota(tx, tenantId, "exclusive");
    }
    // A run slot frees when some run ends: a few seconds is an honest guess, and cheap to retry.
    if (active.tenant >= this.limits.tenantActiveRuns) {
      throw new QuotaExceededError("TOO_MANY_RUNS", `Tenant has ${active.tenant} runs pending or running (limit ${this.limits.tenantActiveRuns})`, 5);
    }
    if (active.all >= this.limits.activeRuns) {
      throw new QuotaExceededError("TOO_MANY_RUNS", `The service has ${active.all} runs pending or running (limit ${this.limits.activeRuns})`, 5);
    }
  }

  /**
   * Counts one run creation against the tenant's rate; {@link QuotaExceededError} (429) past it. Call after
   * {@link RunAdmission.admit}: a run refused for the active limit does not also use up the tenant's rate.
   */
  async consumeRate(tenantId: string): Promise<void> {
    await this.limiter.consume(tenantId).catch((rejection: unknown) => {
      if (rejection instanceof RateLimiterRes) {
        throw new QuotaExceededError("RATE_LIMITED", `Tenant created more than ${this.limits.tenantRunsPerMinute} runs in a minute`, rejection.msBeforeNext / 1000);
      }
      throw new DependencyUnavailableError("Redis did not answer the rate limiter", { cause: rejection });
    });
  }

  /** Postgres' `max_connections`: the most creations that can be open at once. Read once; a failure is retried next time. */
  private bound(): Promise<number> {
    return (this.maxConnections ??= this.runs.maxConnections().catch((err) => {
      this.maxConnections = null;
      throw err;
    }));
  }
}
