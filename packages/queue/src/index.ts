export * from "./connection";
export * from "./run-queue";
export * from "./run-control";
export * from "./worker-heartbeat";
