export * from "./stack";
export * from "./virtual-clock";
export * from "./dev-routes";
