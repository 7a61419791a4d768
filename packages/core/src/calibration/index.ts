export * from "./calibrate";
// Apart from the calibration (and its YAML library), so the API maps it to a problem without loading them.
export * from "./calibration-errors";
export * from "./unified-diff";
export * from "./wilson";
