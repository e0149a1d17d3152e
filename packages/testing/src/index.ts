export * from "./namespace";
export * from "./wait-for";
