/** Form follow-up: the target of the follow-up rules (a submission, a double opt-in confirmed). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("follow-up");
