/** Report: reads the table's stream (the items the report counts, filtered, in batches). What it runs, its trigger and its ports are in packages/core/src/registry.ts (STREAMS). */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("report");
