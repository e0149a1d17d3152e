export * from "./app";
export * from "./services/runs.service";
export * from "./services/threads.service";
export * from "./services/cancel.service";
export * from "./quotas/run-admission";
export * from "./quotas/stream-slots";
export * from "./quotas/quota-keys";
