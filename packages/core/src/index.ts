export * from "./errors";
export * from "./ids";
export * from "./status";
export * from "./models";
export * from "./limits";
export * from "./schemas";
export * from "./stream-modes";
export * from "./transient";
