/** Outgoing webhooks: the target of the webhooks rule (lead.qualified, lead.assigned, lead.closed, tier changes). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { webhooksEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { noEmail } from "./lib/no-mailer";
import { webhookPorts } from "./lib/registry-ports";

export const handler = lambdaFor(webhooksEntry, { webhooks: webhookPorts }, noEmail);
