/** The broadcasts job, on its schedule (see the registry entry "broadcasts"). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("broadcasts");
