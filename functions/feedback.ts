/** Feedback: the target of the feedback rule (lead.closed). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("feedback");
