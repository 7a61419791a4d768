/** Points lapse on their date (see the registry entry "points-expiry"). What it runs, its schedule and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("points-expiry");
