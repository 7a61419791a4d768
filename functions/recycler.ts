/** The recycler, on its schedule: not-now leads whose date came go back to nurture. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("recycler");
