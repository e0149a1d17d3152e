import type Redis from "ioredis";
import { randomUUID } from "node:crypto";
import { DependencyUnavailableError, QuotaExceededError } from "@runline/core";
import { defineScript } from "@runline/journal";
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
// KEYS: tenant set, all set. ARGV: slot id, tenant limit, global limit, ttl ms.
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

// Every slot this process holds, in one call. XX: a slot already released (or expired and dropped) is not
// brought back by a late refresh. KEYS: all set, then each slot's tenant set. ARGV: ttl ms, then each slot's id.
const REFRESH = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + ttl, ARGV[i])
  redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i])
  redis.call('PEXPIRE', KEYS[i], ttl)
end
redis.call('PEXPIRE', KEYS[1], ttl)
return 0`;

// KEYS: tenant set, all set. ARGV: slot id.
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 0`;

type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;

/** Most slots one refresh call carries: a process with more sends several, so no reply grows without bound. */
const REFRESH_BATCH = 500;

/**
 * Counts open SSE streams per tenant and in all, in Redis so the limits hold across API processes. Each open
 * stream holds a slot that expires unless refreshed: one timer per process refreshes every slot it holds, every
 * third of the TTL, in one script call per {@link REFRESH_BATCH} slots (a timer and a round trip per stream
 * would cost a thousand of each at a thousand streams). A stream removes its slot when it ends.
 *
 * The scripts go through `defineScript` (EVALSHA, never a pipeline built per stream opened).
 */
export class StreamSlots implements StreamQuota {
  private readonly keys: ReturnType<typeof quotaKeys>;
  private readonly ttlMs: number;
  private readonly acquireScript: ScriptCall;
  private readonly refreshScript: ScriptCall;
  private readonly releaseScript: ScriptCall;
  /** Slots held by this process: id → tenant set key. */
  private readonly held = new Map<string, string>();
  private refresher: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly limits: StreamLimits,
    options: StreamSlotOptions = {},
  ) {
    this.keys = quotaKeys(prefix);
    this.ttlMs = options.ttlMs ?? 30_000;
    this.acquireScript = defineScript<ScriptCall>(redis, "runlineStreamSlotAcquire", ACQUIRE, 2);
    this.refreshScript = defineScript<ScriptCall>(redis, "runlineStreamSlotRefresh", REFRESH);
    this.releaseScript = defineScript<ScriptCall>(redis, "runlineStreamSlotRelease", RELEASE, 2);
  }

  /** Takes a slot for one stream, or throws {@link QuotaExceededError} (429 `TOO_MANY_STREAMS`). */
  async acquire(tenantId: string): Promise<StreamSlot> {
    const id = randomUUID();
    const tenantKey = this.keys.tenantStreams(tenantId);
    const verdict = await this.acquireScript(tenantKey, this.keys.allStreams, id, this.limits.tenantStreams, this.limits.streams, this.ttlMs).catch((err: unknown) => {
      throw new DependencyUnavailableError("Redis did not answer the stream quota", { cause: err });
    });
    // A stream slot frees when some stream ends, which can take as long as a run: ask for a short wait anyway.
    if (verdict === 1) throw new QuotaExceededError("TOO_MANY_STREAMS", `Tenant has ${this.limits.tenantStreams} streams open (the limit)`, 5);
    if (verdict === 2) throw new QuotaExceededError("TOO_MANY_STREAMS", `The service has ${this.limits.streams} streams open (the limit)`, 5);
    this.hold(id, tenantKey);
    let released: Promise<void> | null = null;
    return {
      release: () => {
        released ??= (async () => {
          this.unhold(id);
          // Not released (Redis away): the slot expires with its TTL.
          await this.releaseScript(tenantKey, this.keys.allStreams, id).then(() => undefined, () => undefined);
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

  private hold(id: string, tenantKey: string): void {
    this.held.set(id, tenantKey);
    if (this.refresher) return;
    this.refresher = setInterval(() => this.refresh(), Math.max(10, Math.floor(this.ttlMs / 3)));
    this.refresher.unref();
  }

  private unhold(id: string): void {
    this.held.delete(id);
    if (this.held.size || !this.refresher) return;
    clearInterval(this.refresher);
    this.refresher = null;
  }

  private refresh(): void {
    const slots = [...this.held];
    for (let i = 0; i < slots.length; i += REFRESH_BATCH) {
      const batch = slots.slice(i, i + REFRESH_BATCH);
      const keys = [this.keys.allStreams, ...batch.map(([, tenantKey]) => tenantKey)];
      // A failed refresh is retried on the next tick; a slot only lapses if Redis stays away for a whole TTL.
      this.refreshScript(keys.length, ...keys, this.ttlMs, ...batch.map(([id]) => id)).catch(() => undefined);
    }
  }
}
