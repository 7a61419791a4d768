/** The claim SLA, on its schedule: unclaimed leads move to the next rep or escalate. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { claimSlaEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { salesPorts } from "./lib/registry-ports";
import { sesMailer } from "./lib/ses";

export const handler = lambdaFor(claimSlaEntry, { sales: salesPorts }, sesMailer);
