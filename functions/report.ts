/** Report: the target of the report rule (the leadloop events and SES's engagement events the report counts). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { reportEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { noEmail } from "./lib/no-mailer";
import { reportPorts } from "./lib/registry-ports";

export const handler = lambdaFor(reportEntry, { reports: reportPorts }, noEmail);
