export * from "./pool";
export * from "./pinned-pool";
export * from "./migrations";
export * from "./threads.repo";
export * from "./runs.repo";
