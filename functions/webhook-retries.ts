/** Webhook retries, on their schedule: deliveries whose receiver failed are tried again with back-off. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("webhook-retries");
