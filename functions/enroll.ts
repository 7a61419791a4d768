/** Enrollment: the target of every enroll-<sequence> rule (see the registry entry "enroll"). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { enrollEntry } from "@leadloop/core/registry";
import { lambdaFor } from "./lib/lambda-for";
import { nurturePorts } from "./lib/registry-ports";
import { sesMailer } from "./lib/ses";

export const handler = lambdaFor(enrollEntry, { nurture: nurturePorts }, sesMailer);
