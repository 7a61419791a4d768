/** Form follow-up: the target of the follow-up rules (a submission, a double opt-in confirmed). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { followUpEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { nurturePorts } from "./lib/registry-ports";
import { sesMailer } from "./lib/ses";

export const handler = lambdaFor(followUpEntry, { nurture: nurturePorts }, sesMailer);
