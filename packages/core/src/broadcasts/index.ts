export * from "./broadcast-audience";
export * from "./broadcast-dry-run";
export * from "./broadcast-schedule";
export * from "./broadcast-store";
export * from "./send-broadcasts";
export * from "./broadcast-sequence-id";
