/** Rep notification retries, on their schedule. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { notificationRetriesEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { salesPorts } from "./lib/registry-ports";
import { sesMailer } from "./lib/ses";

export const handler = lambdaFor(notificationRetriesEntry, { sales: salesPorts }, sesMailer);
