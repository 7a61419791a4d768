/**
 * The sales side of a function's runtime: the same config, lead store, mailer, bus and clock as
 * the nurture deps, plus the sales queue store and the teams' Slack webhooks (each team names a
 * variable; in AWS that name is an SST secret, bound only to the functions that notify reps).
 */
import type { SalesDeps } from "@leadloop/core/sales/sales-deps";
import { SlackWebhookNotifier } from "@leadloop/mailer/slack-notifier";
import { DynamoSalesStore } from "@leadloop/store/dynamo-sales-store";
import { type Runtime, useSlackWebhooks } from "./runtime";

export function salesDeps(runtime: Runtime, webhooks: Record<string, string> = useSlackWebhooks(runtime)): SalesDeps {
  const { deps } = runtime;
  return {
    config: deps.config,
    leads: deps.leads,
    sales: new DynamoSalesStore({ client: runtime.client, tableName: runtime.env.TABLE_NAME }),
    mailer: deps.mailer,
    publisher: deps.publisher,
    clock: deps.clock,
    settings: deps.settings,
    chat: new SlackWebhookNotifier({ env: webhooks }),
    log: runtime.log,
  };
}
