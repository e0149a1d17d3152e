import type Redis from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { DependencyUnavailableError, QuotaExceededError } from "@runline/core";
import type { Queryable, RunsRepo } from "@runline/db";
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

/**
 * Decides whether a tenant may create one more run. Called inside the creation's transaction, after every
 * check of the request passed: a refused or invalid request never counts against a quota.
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

  /** Throws {@link QuotaExceededError} (429) when the run does not fit; otherwise counts its creation. */
  async admit(tx: Queryable, tenantId: string): Promise<void> {
    // One exclusive lock per tenant would serialise every creation of the tenant, each holding it to the end of
    // its transaction: under a burst (400 runs at once) they queue on it while holding pool connections the
    // workers need, and runs start one by one. So creations far from the limit take the lock shared and do not
    // wait for each other. The invariant is committed runs + open shared creations ≤ limit: a shared creation is
    // admitted only when the count plus `max_connections` (Postgres never has more transactions open than that)
    // fits, and an exclusive one counts only after every shared holder committed. Near the limit: exclusive.
    const bound = await (this.maxConnections ??= this.runs.maxConnections(tx).catch((err) => {
      this.maxConnections = null;
      throw err;
    }));
    // A limit within `bound` of zero is always "near": no shared attempt first.
    const sharedMayFit = bound < this.limits.tenantActiveRuns;
    let active = await this.runs.countActiveForQuota(tx, tenantId, sharedMayFit ? "shared" : "exclusive");
    if (sharedMayFit && active.tenant + bound > this.limits.tenantActiveRuns) {
      await this.runs.dropSharedQuotaLock(tx);
      active = await this.runs.countActiveForQuota(tx, tenantId, "exclusive");
    }
    // A run slot frees when some run ends: a few seconds is an honest guess, and cheap to retry.
    if (active.tenant >= this.limits.tenantActiveRuns) {
      throw new QuotaExceededError("TOO_MANY_RUNS", `Tenant has ${active.tenant} runs pending or running (limit ${this.limits.tenantActiveRuns})`, 5);
    }
    if (active.all >= this.limits.activeRuns) {
      throw new QuotaExceededError("TOO_MANY_RUNS", `The service has ${active.all} runs pending or running (limit ${this.limits.activeRuns})`, 5);
    }
    // Consumed last: a run refused for the active limit does not also use up the tenant's rate.
    await this.limiter.consume(tenantId).catch((rejection: unknown) => {
      if (rejection instanceof RateLimiterRes) {
        throw new QuotaExceededError("RATE_LIMITED", `Tenant created more than ${this.limits.tenantRunsPerMinute} runs in a minute`, rejection.msBeforeNext / 1000);
      }
      throw new DependencyUnavailableError("Redis did not answer the rate limiter", { cause: rejection });
    });
  }
}
