export * from "./graph-registry";
export * from "./wire-format";
export * from "./partial-collector";
export * from "./run-executor";
export * from "./run-dispatcher";
export * from "./run-finisher";
export * from "./state-view";
