export * from "./app";
export * from "./problem";
export * from "./rate-limit";
export * from "./submission-body";
export * from "./auth/index";
export * from "./client-limit";
