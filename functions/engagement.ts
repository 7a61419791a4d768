/** Engagement: the target of the engagement (SES events) and score rules. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("engagement");
