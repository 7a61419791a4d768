/**
 * The staff HTTP API behind the same API Gateway as functions/api.ts: the sales, customer and
 * admin routes (bearer tokens) and the pages that call them; the reports are functions/reports-api.ts.
 * Only these two functions hold the bearer-token secret.
 */
import { createStaffApp } from "@leadloop/api/staff-app";
import { DynamoBroadcastStore } from "@leadloop/store/dynamo-broadcast-store";
import { DynamoJourneyCounts } from "@leadloop/store/dynamo-journey-counts";
import { DynamoLeadRecords } from "@leadloop/store/dynamo-lead-records";
import { DynamoSalesStore } from "@leadloop/store/dynamo-sales-store";
import { DynamoWebhookStore } from "@leadloop/store/dynamo-webhook-store";
import { httpHandler } from "./lib/http-api";
import { sesMailer } from "./lib/ses";
import { staffAppDeps } from "./lib/staff-deps";

export const handler = httpHandler((runtime) => {
  const { client } = runtime;
  const tableName = runtime.env.TABLE_NAME;
  return createStaffApp({
    ...staffAppDeps(runtime),
    // No route here notifies a team (claims and outcomes do not), so this function holds no Slack secret.
    sales: new DynamoSalesStore({ client, tableName }),
    records: new DynamoLeadRecords({ client, tableName }),
    webhooks: new DynamoWebhookStore({ client, tableName }),
    journeys: new DynamoJourneyCounts({ client, tableName }),
    broadcasts: new DynamoBroadcastStore({ client, tableName }),
  });
}, sesMailer);
