export * from "./erase-lead";
export * from "./export-lead";
export * from "./import";
export * from "./lead-records";
