export * from "./connection";
export * from "./run-queue";
