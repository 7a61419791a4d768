/**
 * Outgoing webhooks in AWS: each endpoint of config/webhooks.yaml names two variables (its URL and
 * its signing key); each name is an SST secret, bound only to the webhook functions
 * (infra/nurture-stack.ts) and read with the function's other bound values on its first invocation. An endpoint whose secrets
 * are `none` or unset gets nothing on this stage, and the container says so once.
 */
import { resolveWebhookTargets, type WebhookDeps } from "@leadloop/core/integrations/webhooks";
import { FetchWebhookSender } from "@leadloop/mailer/webhook-sender";
import { DynamoSalesStore } from "@leadloop/store/dynamo-sales-store";
import { DynamoWebhookStore } from "@leadloop/store/dynamo-webhook-store";
import type { Runtime } from "./runtime";

export function webhookDeps(runtime: Runtime, lookup: (name: string) => string | undefined = runtime.bound): WebhookDeps {
  const { deps } = runtime;
  const { client } = runtime;
  const { targets, missing } = resolveWebhookTargets(deps.config.webhooks?.endpoints ?? [], lookup);
  if (missing.length > 0) runtime.log.warn("webhook endpoints without a URL or key on this stage get nothing", { endpoints: missing });
  return {
    config: deps.config,
    leads: deps.leads,
    sales: new DynamoSalesStore({ client, tableName: runtime.env.TABLE_NAME }),
    webhooks: new DynamoWebhookStore({ client, tableName: runtime.env.TABLE_NAME }),
    sender: new FetchWebhookSender(),
    targets,
    clock: deps.clock,
    log: runtime.log,
  };
}
