export * from "./activity-id";
export * from "./document-client";
export * from "./dynamo-lead-store";
export * from "./errors";
export * from "./keys";
export * from "./table";
export * from "./dynamo-nurture-store";
