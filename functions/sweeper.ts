/** The nurture sweeper, on its schedule (see the registry entry "sweeper"). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { sweeperEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { nurturePorts } from "./lib/registry-ports";
import { sesMailer } from "./lib/ses";

export const handler = lambdaFor(sweeperEntry, { nurture: nurturePorts }, sesMailer);
