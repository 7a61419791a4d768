export * from "./engagement-handler";
export * from "./lead-scoring";
export * from "./record-behaviour";
export * from "./ses-events";
export * from "./site-events";
