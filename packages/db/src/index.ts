export * from "./pool";
export * from "./pinned-pool";
export * from "./connection-queue";
export * from "./migrations";
export * from "./threads.repo";
export * from "./runs.repo";
