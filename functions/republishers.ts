/** The republishers, on their one schedule: captures, outbox events and qualifications the bus refused are announced. What each runs, its ports and the schedule are in packages/core/src/registry.ts. */
import { republishersSchedule } from "@leadloop/core/registry";
import { lambdaForSchedule } from "./lib/lambda-for";
import { noEmail } from "./lib/no-mailer";
import { nurturePorts } from "./lib/registry-ports";

export const handler = lambdaForSchedule(republishersSchedule, { nurture: nurturePorts }, noEmail);
