export * from "./config/schema";
export * from "./lead";
export * from "./ports";
