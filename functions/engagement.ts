/** Engagement: the target of the engagement (SES events) and score rules. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { engagementEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { noEmail } from "./lib/no-mailer";
import { nurturePorts } from "./lib/registry-ports";

export const handler = lambdaFor(engagementEntry, { nurture: nurturePorts }, noEmail);
