/**
 * The public HTTP API behind API Gateway (HTTP API, payload 2.0): the one hono app of
 * packages/api, built once per container on its first request. The client's address is the one API Gateway saw
 * (`requestContext.http.sourceIp`), never a header the client can set.
 */
import { createApp } from "@leadloop/api/app";
import { clientLimitsFromEnv } from "@leadloop/api/client-limit";
import { createDocumentClient } from "@leadloop/store/document-client";
import { DynamoApiKeys } from "@leadloop/store/dynamo-api-keys";
import { DynamoBroadcastStore } from "@leadloop/store/dynamo-broadcast-store";
import { DynamoSalesStore } from "@leadloop/store/dynamo-sales-store";
import { DynamoLeadRecords } from "@leadloop/store/dynamo-lead-records";
import { DynamoRateWindows } from "@leadloop/store/dynamo-rate-windows";
import { DynamoReportStore } from "@leadloop/store/dynamo-report-store";
import { DynamoLeadQuality } from "@leadloop/store/dynamo-lead-quality";
import { DynamoRewardsStore } from "@leadloop/store/dynamo-rewards-store";
import { DynamoJourneyCounts } from "@leadloop/store/dynamo-journey-counts";
import type { Context } from "hono";
import { handle } from "hono/aws-lambda";
import { beginInvocation, type Runtime, useAuthenticator, useRuntime } from "./lib/runtime";

interface LambdaBindings {
  requestContext?: { requestId?: string; http?: { sourceIp?: string } };
}

export function sourceIp(c: Context): string {
  return (c.env as LambdaBindings | undefined)?.requestContext?.http?.sourceIp ?? "unknown";
}

type Served = ReturnType<typeof handle>;

/** The app and its adapters, built on the first request (when the bound secrets are read) and kept. */
async function createServed(): Promise<{ runtime: Runtime; served: Served }> {
  const runtime = await useRuntime();
  const { env } = runtime;
  const rateLimit =
    env.RATE_LIMIT_BURST && env.RATE_LIMIT_PER_SECOND ? { burst: env.RATE_LIMIT_BURST, perSecond: env.RATE_LIMIT_PER_SECOND } : undefined;

  // A stage without bearer-token settings still captures leads; its token routes refuse every caller.
  const authenticate = useAuthenticator(runtime);
  const client = createDocumentClient();
  // The same windows and store the local stack runs (packages/api/src/client-limit.ts); the stack
  // sets CLIENT_LIMITS, and API Gateway's per-route throttles cap each route family as a whole.
  const sharedLimits = {
    ...clientLimitsFromEnv(process.env.CLIENT_LIMITS),
    windows: new DynamoRateWindows({ client, tableName: env.TABLE_NAME }),
    nowMs: () => Date.now(),
    log: runtime.log,
  };

  const app = createApp({
    ...runtime.deps,
    log: runtime.log,
    clientIp: sourceIp,
    sharedLimits,
    localOrigins: process.env.LEADLOOP_LOCAL_ORIGINS === "refuse" ? "refuse" : "allow",
    // No route here notifies a team (claims and outcomes do not), so the API holds no Slack secret.
    sales: new DynamoSalesStore({ client, tableName: env.TABLE_NAME }),
    records: new DynamoLeadRecords({ client, tableName: env.TABLE_NAME }),
    // Read on every request that presents a key, so a revocation holds in every container at once.
    apiKeys: new DynamoApiKeys({ client, tableName: env.TABLE_NAME }),
    reports: new DynamoReportStore({ client, tableName: env.TABLE_NAME }),
    quality: new DynamoLeadQuality({ client, tableName: env.TABLE_NAME }),
    rewards: new DynamoRewardsStore({ client, tableName: env.TABLE_NAME }),
    journeys: new DynamoJourneyCounts({ client, tableName: env.TABLE_NAME }),
    broadcasts: new DynamoBroadcastStore({ client, tableName: env.TABLE_NAME }),
    ...(authenticate ? { authenticate } : {}),
    ...(rateLimit ? { rateLimit } : {}),
  });
  return { runtime, served: handle(app) };
}

let ready: Promise<{ runtime: Runtime; served: Served }> | undefined;

export const handler: Served = async (event, context) => {
  // A first request that could not build the app (a secret not set) is not kept: the next one retries.
  ready ??= createServed().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  const { runtime, served } = await ready;
  beginInvocation(runtime.logger, context);
  // The lead's id is not known until capture has run; its "event published" line carries it, and
  // the request id ties that line to this request's other lines.
  runtime.logger.appendKeys({ requestId: (event as LambdaBindings).requestContext?.requestId });
  return served(event, context);
};
