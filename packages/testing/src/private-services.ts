// Private Redis and Postgres servers for fault-injection tests: each on its own loopback port and temp dir, never
// the shared servers on 6379/5432, so a test may restart, kill or freeze them without disturbing other files.
export { freePort } from "./services/ports";
export { startPrivateRedis, type PrivateRedis } from "./services/redis";
export { startPrivatePostgres, type PrivatePostgres } from "./services/postgres";
export { startPrivateRedisCluster, type PrivateRedisCluster } from "./services/redis-cluster";
