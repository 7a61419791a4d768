/** Webhook retries, on their schedule: deliveries whose receiver failed are tried again with back-off. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { webhookRetriesEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { noEmail } from "./lib/no-mailer";
import { webhookPorts } from "./lib/registry-ports";

export const handler = lambdaFor(webhookRetriesEntry, { webhooks: webhookPorts }, noEmail);
