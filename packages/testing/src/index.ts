export * from "./namespace";
export * from "./wait-for";
export * from "./sse-client";
export * from "./runline-env";
export * from "./private-services";
export { FAST_RECOVERY } from "./fault-settings";
export * from "./fake-openai-server";
