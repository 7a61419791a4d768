/** The sales queue's checks, on their one schedule: claim windows that closed, rep notifications owed. What each runs, its ports and the schedule are in packages/core/src/registry.ts. */
import { salesChecksSchedule } from "@leadloop/core/registry";
import { lambdaForSchedule } from "./lib/lambda-for";
import { salesPorts } from "./lib/registry-ports";
import { sesMailer } from "./lib/ses";

export const handler = lambdaForSchedule(salesChecksSchedule, { sales: salesPorts }, sesMailer);
