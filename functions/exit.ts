/** Nurture exit: the target of the exit rule (every event a sequence may exit on). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { exitEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { noEmail } from "./lib/no-mailer";
import { nurturePorts } from "./lib/registry-ports";

export const handler = lambdaFor(exitEntry, { nurture: nurturePorts }, noEmail);
