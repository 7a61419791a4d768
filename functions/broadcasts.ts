/** The broadcasts job, on its schedule (see the registry entry "broadcasts"). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { broadcastsEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { broadcastPorts, nurturePorts } from "./lib/registry-ports";
import { sesMailer } from "./lib/ses";

export const handler = lambdaFor(broadcastsEntry, { nurture: nurturePorts, broadcasts: broadcastPorts }, sesMailer);
