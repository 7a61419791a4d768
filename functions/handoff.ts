/** Hand-off: the target of the handoff rule (lead.qualified). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { handoffEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { salesPorts } from "./lib/registry-ports";
import { sesMailer } from "./lib/ses";

export const handler = lambdaFor(handoffEntry, { sales: salesPorts }, sesMailer);
