// Runline's Redis connections are made in one place, with the journal's helpers (which the journal hub needs too).
export { createRedis, subscriberConnection, keyspaceNodes, type RedisTarget } from "@runline/journal";
