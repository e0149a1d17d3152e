export * from "./app";
export * from "./services/runs.service";
export * from "./services/threads.service";
export * from "./services/cancel.service";
