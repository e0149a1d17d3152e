import type Redis from "ioredis";
import { randomUUID } from "node:crypto";
import { DependencyUnavailableError, QuotaExceededError } from "@runline/core";
import { quotaKeys } from "./quota-keys";

/** The open-stream limits, across every API process. */
export interface StreamLimits {
  tenantStreams: number;
  streams: number;
}

export interface StreamSlotOptions {
  /**
   * How long a slot outlives its last refresh. A process that dies holding slots loses them after this long,
   * so a crash never leaks a slot for good. @defaultValue 30_000
   */
  ttlMs?: number;
}

/** One open stream's place in the count; `release()` is idempotent. */
export interface StreamSlot {
  release(): Promise<void>;
}

/** What the stream routes need: a slot per open stream. */
export interface StreamQuota {
  acquire(tenantId: string): Promise<StreamSlot>;
}

/** No limits (an app built without quotas). */
export const UNLIMITED_STREAMS: StreamQuota = { acquire: async () => ({ release: async () => undefined }) };

// Expired slots (their process died) are dropped before counting; both sets are checked and written in one
// script, so two processes cannot both take the last slot. Redis's clock is the one clock all processes share.
const ACQUIRE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 2 end
local ttl = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return 0`;

// XX: a slot already released (or expired and dropped) is not brought back by a late refresh.
const REFRESH = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[1])
redis.call('ZADD', KEYS[2], 'XX', now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return 0`;

/**
 * Counts open SSE streams per tenant and in all, in Redis so the limits hold across API processes. Each open
 * stream holds a slot that expires unless refreshed; the holder refreshes it every third of the TTL while the
 * stream lives and removes it when the stream ends.
 */
export class StreamSlots implements StreamQuota {
  private readonly keys: ReturnType<typeof quotaKeys>;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly limits: StreamLimits,
    options: StreamSlotOptions = {},
  ) {
    this.keys = quotaKeys(prefix);
    this.ttlMs = options.ttlMs ?? 30_000;
  }

  /** Takes a slot for one stream, or throws {@link QuotaExceededError} (429 `TOO_MANY_STREAMS`). */
  async acquire(tenantId: string): Promise<StreamSlot> {
    const id = randomUUID();
    const keys = [this.keys.tenantStreams(tenantId), this.keys.allStreams];
    const verdict = await this.redis
      .eval(ACQUIRE, 2, ...keys, id, this.limits.tenantStreams, this.limits.streams, this.ttlMs)
      .catch((err: unknown) => {
        throw new DependencyUnavailableError("Redis did not answer the stream quota", { cause: err });
      });
    // A stream slot frees when some stream ends, which can take as long as a run: ask for a short wait anyway.
    if (verdict === 1) throw new QuotaExceededError("TOO_MANY_STREAMS", `Tenant has ${this.limits.tenantStreams} streams open (the limit)`, 5);
    if (verdict === 2) throw new QuotaExceededError("TOO_MANY_STREAMS", `The service has ${this.limits.streams} streams open (the limit)`, 5);
    const refresh = setInterval(() => {
      // A failed refresh is retried on the next tick; the slot only lapses if Redis stays away for a whole TTL.
      this.redis.eval(REFRESH, 2, ...keys, id, this.ttlMs).catch(() => undefined);
    }, Math.max(10, Math.floor(this.ttlMs / 3)));
    refresh.unref();
    let released: Promise<void> | null = null;
    return {
      release: () => {
        released ??= (async () => {
          clearInterval(refresh);
          // Not released (Redis away): the slot expires with its TTL.
          await this.redis.multi().zrem(keys[0], id).zrem(keys[1], id).exec().then(() => undefined, () => undefined);
        })();
        return released;
      },
    };
  }

  /** Slots held now (expired ones excluded): the tenant's and everyone's. For tests and the dashboard. */
  async count(tenantId: string): Promise<{ tenant: number; all: number }> {
    const [seconds, micros] = await this.redis.time();
    const ms = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const [tenant, all] = await Promise.all([
      this.redis.zcount(this.keys.tenantStreams(tenantId), `(${ms}`, "+inf"),
      this.redis.zcount(this.keys.allStreams, `(${ms}`, "+inf"),
    ]);
    return { tenant, all };
  }
}
