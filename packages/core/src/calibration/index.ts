export * from "./calibrate";
export * from "./unified-diff";
export * from "./wilson";
