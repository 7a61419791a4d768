/**
 * The staff HTTP API behind the same API Gateway as functions/api.ts: the sales, customer and
 * admin routes (bearer tokens) and the pages that call them; the reports are functions/reports-api.ts.
 * Only these two functions hold the bearer-token secret.
 */
import { createStaffApp } from "@leadloop/api/staff-app";
import { DynamoApiKeys } from "@leadloop/store/dynamo-api-keys";
import { DynamoWebhookStore } from "@leadloop/store/dynamo-webhook-store";
import { DynamoBroadcastStore } from "@leadloop/store/dynamo-broadcast-store";
import { DynamoJourneyCounts } from "@leadloop/store/dynamo-journey-counts";
import { DynamoLeadQuality } from "@leadloop/store/dynamo-lead-quality";
import { DynamoLeadRecords } from "@leadloop/store/dynamo-lead-records";
import { DynamoRewardsStore } from "@leadloop/store/dynamo-rewards-store";
import { DynamoSalesStore } from "@leadloop/store/dynamo-sales-store";
import { httpHandler, publicAppDeps } from "./lib/http-api";
import { useAuthenticator } from "./lib/authenticator";
import { sesMailer } from "./lib/ses";

export const handler = httpHandler((runtime) => {
  const { client } = runtime;
  const tableName = runtime.env.TABLE_NAME;
  // A stage without bearer-token settings still captures leads; these routes then refuse every caller.
  const authenticate = useAuthenticator(runtime);
  return createStaffApp({
    ...publicAppDeps(runtime),
    // No route here notifies a team (claims and outcomes do not), so this function holds no Slack secret.
    sales: new DynamoSalesStore({ client, tableName }),
    records: new DynamoLeadRecords({ client, tableName }),
    // Read on every request that presents a key, so a revocation holds in every container at once.
    apiKeys: new DynamoApiKeys({ client, tableName }),
    webhooks: new DynamoWebhookStore({ client, tableName }),
    quality: new DynamoLeadQuality({ client, tableName }),
    rewards: new DynamoRewardsStore({ client, tableName }),
    journeys: new DynamoJourneyCounts({ client, tableName }),
    broadcasts: new DynamoBroadcastStore({ client, tableName }),
    ...(authenticate ? { authenticate } : {}),
  });
}, sesMailer);
