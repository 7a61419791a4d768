/** Nurture exit: the target of the exit rule (every event a sequence may exit on). What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("exit");
