/** The recycler, on its schedule: not-now leads whose date came go back to nurture. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { recyclerEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { noEmail } from "./lib/no-mailer";
import { feedbackPorts } from "./lib/registry-ports";

export const handler = lambdaFor(recyclerEntry, { feedback: feedbackPorts }, noEmail);
