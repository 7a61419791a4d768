/**
 * The reports behind the same API Gateway as functions/api.ts and functions/staff-api.ts: the
 * funnel, cohorts, deal reviews, calibration, retention and A/B figures (bearer tokens, marketing
 * or admin role) and the /reports page that charts them. Apart from the other staff routes so
 * neither function carries the other's code: calibration's scoring.yaml suggestion brings the
 * YAML library, which only this function carries, and evaluates on the first calibration.
 */
import { createReportsApp } from "@leadloop/api/staff-app";
import { DynamoApiKeys } from "@leadloop/store/dynamo-api-keys";
import { DynamoLeadQuality } from "@leadloop/store/dynamo-lead-quality";
import { DynamoReportStore } from "@leadloop/store/dynamo-report-store";
import { DynamoRewardsStore } from "@leadloop/store/dynamo-rewards-store";
import { httpHandler, noMailer, publicAppDeps } from "./lib/http-api";
import { useAuthenticator } from "./lib/authenticator";

// No report route sends email, so this function loads no SES client (and its role may not send).
export const handler = httpHandler((runtime) => {
  const { client } = runtime;
  const tableName = runtime.env.TABLE_NAME;
  // A stage without bearer-token settings still captures leads; these routes then refuse every caller.
  const authenticate = useAuthenticator(runtime);
  return createReportsApp({
    ...publicAppDeps(runtime),
    // Read on every request that presents a key, so a revocation holds in every container at once.
    apiKeys: new DynamoApiKeys({ client, tableName }),
    reports: new DynamoReportStore({ client, tableName }),
    quality: new DynamoLeadQuality({ client, tableName }),
    rewards: new DynamoRewardsStore({ client, tableName }),
    ...(authenticate ? { authenticate } : {}),
  });
}, noMailer);
