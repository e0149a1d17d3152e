export * from "./run-worker";
export * from "./processors/run.processor";
