export * from "./apply-outcome";
export * from "./closed-event";
export * from "./feedback-store";
export * from "./recycle-due-leads";
export * from "./score-reset";
export * from "./deal-review";
export * from "./lead-quality";
export * from "./deal-reviews";
