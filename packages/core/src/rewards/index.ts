export * from "./points";
export * from "./record-purchase";
export * from "./rewards-errors";
export * from "./rewards-store";
export * from "./tier-email";
