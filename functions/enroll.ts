/** Enrollment: the target of every enroll-<sequence> rule (see the registry entry "enroll"). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("enroll");
