export * from "./confirmation";
export * from "./email-links";
export * from "./enroll";
export * from "./nurture-settings";
export * from "./send-rate";
export * from "./sweeper";
export * from "./unsubscribe";
