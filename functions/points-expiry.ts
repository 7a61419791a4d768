/** Points lapse on their date (see the registry entry "points-expiry"). What it runs, its schedule and its ports are in packages/core/src/registry.ts. */
import { pointsExpiryEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { rewardPorts } from "./lib/registry-ports";
import { sesMailer } from "./lib/ses";

export const handler = lambdaFor(pointsExpiryEntry, { rewards: rewardPorts }, sesMailer);
