/** Feedback: the target of the feedback rule (lead.closed). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { feedbackEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { noEmail } from "./lib/no-mailer";
import { feedbackPorts } from "./lib/registry-ports";

export const handler = lambdaFor(feedbackEntry, { feedback: feedbackPorts }, noEmail);
