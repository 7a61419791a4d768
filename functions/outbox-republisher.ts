/** The outbox republisher, on its schedule: events whose producer could not publish them are announced. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { outboxRepublisherEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { noEmail } from "./lib/no-mailer";
import { nurturePorts } from "./lib/registry-ports";

export const handler = lambdaFor(outboxRepublisherEntry, { nurture: nurturePorts }, noEmail);
