/** Double opt-in upkeep, on its schedule: failed confirmation emails are sent again, expired unconfirmed leads deleted. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("confirmations");
