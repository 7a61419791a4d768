// The simulator's public face. The cost model, personas, team rotation and report formatting are
// reachable by subpath (`@leadloop/core/simulation/cost-model`) so their generic names cannot
// clash with the hand-off and report code exported from the same package root.
export * from "./forecast";
export * from "./journey-simulator";
export * from "./simulation-options";
export * from "./scripted-journeys";
