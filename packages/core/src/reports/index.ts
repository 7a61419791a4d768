export * from "./stage-histogram";
export * from "./report-aggregates";
export * from "./report-store";
export * from "./report-event";
export * from "./record-report-event";
export * from "./funnel-report";
export * from "./cohort";
export * from "./cohort-report";
