/** The qualification republisher, on its schedule: qualifications the bus never saw are announced. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { qualificationRepublisherEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { noEmail } from "./lib/no-mailer";
import { nurturePorts } from "./lib/registry-ports";

export const handler = lambdaFor(qualificationRepublisherEntry, { nurture: nurturePorts }, noEmail);
