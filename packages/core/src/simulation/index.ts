export * from "./cost-model";
export * from "./forecast";
export * from "./journey-simulator";
export * from "./prng";
export * from "./simulation-options";
export * from "./synthetic-leads";
export * from "./team-assignment";
