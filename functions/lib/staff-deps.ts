/**
 * What both staff functions (staff-api, reports-api) build beside the public deps: API keys, lead
 * quality, rewards and the bearer-token check. Apart from http-api.ts so the public api function
 * bundles none of it.
 */
import { DynamoApiKeys } from "@leadloop/store/dynamo-api-keys";
import { DynamoLeadQuality } from "@leadloop/store/dynamo-lead-quality";
import { DynamoRewardsStore } from "@leadloop/store/dynamo-rewards-store";
import { useAuthenticator } from "./authenticator";
import { publicAppDeps } from "./http-api";
import type { Runtime } from "./runtime";

export function staffAppDeps(runtime: Runtime) {
  const { client } = runtime;
  const tableName = runtime.env.TABLE_NAME;
  // A stage without bearer-token settings still captures leads; these routes then refuse every caller.
  const authenticate = useAuthenticator(runtime);
  return {
    ...publicAppDeps(runtime),
    // Read on every request that presents a key, so a revocation holds in every container at once.
    apiKeys: new DynamoApiKeys({ client, tableName }),
    quality: new DynamoLeadQuality({ client, tableName }),
    rewards: new DynamoRewardsStore({ client, tableName }),
    ...(authenticate ? { authenticate } : {}),
  };
}
