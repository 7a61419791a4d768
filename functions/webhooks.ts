/** Outgoing webhooks: the target of the webhooks rule (lead.qualified, lead.assigned, lead.closed, tier changes). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("webhooks");
