/**
 * Every Redis key of the API's quotas, built in one place (under the deployment's prefix, like the journal's).
 * The stream-slot sets carry one hash tag (`{quota}`): the slot scripts check a tenant's set and the global set
 * together, which a Redis Cluster allows only within one slot.
 */
export function quotaKeys(prefix: string) {
  return {
    /** rate-limiter-flexible's prefix for run creations (it appends `:<tenant>`). */
    runCreationsPrefix: `${prefix}:quota:run-creations`,
    /** Sorted set of one tenant's open streams: member = connection id, score = when its slot expires (ms). */
    tenantStreams: (tenantId: string) => `${prefix}:{quota}:streams:tenant:${tenantId}`,
    /** The same, for every tenant together. */
    allStreams: `${prefix}:{quota}:streams:all`,
  };
}
