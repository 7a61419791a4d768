/** The qualification republisher, on its schedule: qualifications the bus never saw are announced. What it runs, its trigger and its ports are in packages/core/src/registry.ts. */
import { lambdaFor } from "./lib/lambda-for";

export const handler = lambdaFor("qualification-republisher");
