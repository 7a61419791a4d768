/** Every leadloop stack, in dependency order; sst.config.ts and the offline synth both use this. */
import type { App } from "sst/constructs";
import { ApiStack } from "./api-stack";
import { Core } from "./core-stack";
import { MonitoringStack } from "./monitoring-stack";
import { acceptKnownFindings } from "./nag";
import { NurtureStack } from "./nurture-stack";

export const STACKS = { Core, ApiStack, NurtureStack, MonitoringStack } as const;

export function leadloopStacks(app: App): void {
  app.setDefaultFunctionProps({ runtime: "nodejs22.x" });
  app.stack(Core, { id: "core" }).stack(ApiStack, { id: "api" }).stack(NurtureStack, { id: "nurture" })
    .stack(MonitoringStack, { id: "monitoring" });
  acceptKnownFindings(app);
}
