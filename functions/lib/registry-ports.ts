/**
 * How a Lambda builds each port bundle a registry entry names, from the container's runtime. Each
 * builder is exported on its own: a function (functions/<name>.ts) imports only those its entry
 * names, so its bundle carries only the stores and senders it uses (`lambdaFor` checks the set).
 */
import type { PortName, RegistryPorts } from "@leadloop/core/registry";
import { DynamoBroadcastStore } from "@leadloop/store/dynamo-broadcast-store";
import { DynamoLeadRecords } from "@leadloop/store/dynamo-lead-records";
import { DynamoReportStore } from "@leadloop/store/dynamo-report-store";
import { DynamoRewardsStore } from "@leadloop/store/dynamo-rewards-store";
import { feedbackDeps } from "./feedback-deps";
import type { Runtime } from "./runtime";
import { salesDeps } from "./sales-deps";
import { webhookDeps } from "./webhook-deps";

/** The builders of the ports `P`, one per port name. */
export type PortBuilders<P extends PortName> = { [K in P]: (runtime: Runtime) => RegistryPorts[K] };

export const nurturePorts = (runtime: Runtime): RegistryPorts["nurture"] => runtime.deps;
export const salesPorts = (runtime: Runtime): RegistryPorts["sales"] => salesDeps(runtime);
export const feedbackPorts = (runtime: Runtime): RegistryPorts["feedback"] => feedbackDeps(runtime);
export const reportPorts = (runtime: Runtime): RegistryPorts["reports"] => ({
  reports: new DynamoReportStore({ client: runtime.client, tableName: runtime.env.TABLE_NAME }),
});
export const recordPorts = (runtime: Runtime): RegistryPorts["records"] =>
  new DynamoLeadRecords({ client: runtime.client, tableName: runtime.env.TABLE_NAME });
export const broadcastPorts = (runtime: Runtime): RegistryPorts["broadcasts"] =>
  new DynamoBroadcastStore({ client: runtime.client, tableName: runtime.env.TABLE_NAME });
export const rewardPorts = (runtime: Runtime): RegistryPorts["rewards"] => ({
  ...runtime.deps,
  rewards: new DynamoRewardsStore({ client: runtime.client, tableName: runtime.env.TABLE_NAME }),
});
export const webhookPorts = (runtime: Runtime): RegistryPorts["webhooks"] => webhookDeps(runtime);
