/** The outbox republisher, on its schedule: events whose producer could not publish them are announced. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("outbox-republisher");
