import type { SSTConfig } from "sst";
import { leadloopStacks } from "./infra/stacks";

export default {
  config(input) {
    return { name: "leadloop", region: input.region ?? process.env.AWS_REGION ?? "us-east-1" };
  },
  stacks(app) {
    leadloopStacks(app);
  },
} satisfies SSTConfig;
