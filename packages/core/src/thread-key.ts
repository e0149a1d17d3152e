/**
 * Thread ids are scoped by tenant: two tenants may each have a thread `t1`, and one tenant's id tells another
 * nothing (issue #9). Everything behind the API (the `threads` and `runs` rows, LangGraph's checkpoint tables,
 * queue payloads, the Redis channels that carry a thread id) names a thread by its *storage key*,
 * `<tenant>:<thread id>`; the API maps it back to the public id in everything it answers. This module is the
 * only place that builds or reads a key in code; SQL spells the same form twice, in migration 7 (which converts
 * the rows) and in `ThreadsRepo.tenantsWithPublicId` (the admin's lookup by public id).
 *
 * The separator is safe without escaping: tenant ids never contain `:` (RUNLINE_API_KEYS is `key:tenant`
 * pairs, refused otherwise), and the key is split at its first `:`, so whatever the thread id holds stays whole.
 */

const SEPARATOR = ":";

/** The storage key of `threadId` (as the tenant's clients name it) in `tenantId`'s space. */
export function threadKey(tenantId: string, threadId: string): string {
  // Refused rather than escaped: the config already refuses such a tenant, so this only catches a caller bug.
  if (!tenantId || tenantId.includes(SEPARATOR)) throw new Error(`tenant id ${JSON.stringify(tenantId)} cannot scope a thread id`);
  return `${tenantId}${SEPARATOR}${threadId}`;
}

/** The public thread id of a storage key: what the tenant sent and reads back. */
export function publicThreadId(key: string): string {
  const at = key.indexOf(SEPARATOR);
  // Every stored key has one (migration 7 converted the rest); an id without one is returned as it is.
  return at < 0 ? key : key.slice(at + 1);
}

/**
 * `value` with every string equal to `key` replaced by its public id, for LangGraph payloads that echo the
 * thread's config (checkpoint and debug events, checkpoint metadata). Only exact matches change: text that
 * merely contains the key is the graph's own content.
 */
export function withPublicThreadId<T>(value: T, key: string): T {
  return replaceKey(value, key, publicThreadId(key)) as T;
}

function replaceKey(value: unknown, key: string, publicId: string): unknown {
  if (value === key) return publicId;
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => replaceKey(item, key, publicId));
  const out: Record<string, unknown> = {};
  for (const [name, inner] of Object.entries(value)) out[name] = replaceKey(inner, key, publicId);
  return out;
}
