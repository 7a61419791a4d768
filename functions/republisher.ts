/** The capture republisher, on its schedule: leads the bus never saw are announced. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { republisherEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { noEmail } from "./lib/no-mailer";
import { nurturePorts } from "./lib/registry-ports";

export const handler = lambdaFor(republisherEntry, { nurture: nurturePorts }, noEmail);
