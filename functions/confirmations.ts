/** Double opt-in upkeep, on its schedule: failed confirmation emails are sent again, expired unconfirmed leads deleted. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { confirmationsEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { nurturePorts, recordPorts } from "./lib/registry-ports";
import { sesMailer } from "./lib/ses";

export const handler = lambdaFor(confirmationsEntry, { nurture: nurturePorts, records: recordPorts }, sesMailer);
