/** Report: the target of the report rule (the leadloop events and SES's engagement events the report counts). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("report");
