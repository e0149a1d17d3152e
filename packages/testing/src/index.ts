export * from "./namespace";
export * from "./wait-for";
export * from "./sse-client";
export * from "./runline-env";
export * from "./private-services";
