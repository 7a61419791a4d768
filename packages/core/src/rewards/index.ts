export * from "./ledger-booking";
export * from "./points";
export * from "./purchase-corrections";
export * from "./record-purchase";
export * from "./redeem-reward";
export * from "./rewards-errors";
export * from "./rewards-store";
export * from "./tier-email";
