/** The claim SLA, on its schedule: unclaimed leads move to the next rep or escalate. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("claim-sla");
