export * from "./eventbridge-publisher";
export * from "./local-bus";
