/**
 * The public HTTP API behind API Gateway (HTTP API, payload 2.0): the one hono app of
 * packages/api, built once per container. The client's address is the one API Gateway saw
 * (`requestContext.http.sourceIp`), never a header the client can set.
 */
import { createApp } from "@leadloop/api/app";
import { SlackWebhookNotifier } from "@leadloop/mailer/slack-notifier";
import { createDocumentClient as salesClient } from "@leadloop/store/document-client";
import { DynamoSalesStore } from "@leadloop/store/dynamo-sales-store";
import { createAuthenticator } from "@leadloop/api/auth/bearer";
import { authSettingsFromEnv } from "@leadloop/core/auth-claims";
import { createDocumentClient } from "@leadloop/store/document-client";
import { DynamoLeadRecords } from "@leadloop/store/dynamo-lead-records";
import { DynamoReportStore } from "@leadloop/store/dynamo-report-store";
import { DynamoRewardsStore } from "@leadloop/store/dynamo-rewards-store";
import type { Context } from "hono";
import { handle } from "hono/aws-lambda";
import { beginInvocation, useRuntime } from "./lib/runtime";

const runtime = useRuntime();
const { env } = runtime;

interface LambdaBindings {
  requestContext?: { requestId?: string; http?: { sourceIp?: string } };
}

export function sourceIp(c: Context): string {
  return (c.env as LambdaBindings | undefined)?.requestContext?.http?.sourceIp ?? "unknown";
}

const rateLimit =
  env.RATE_LIMIT_BURST && env.RATE_LIMIT_PER_SECOND ? { burst: env.RATE_LIMIT_BURST, perSecond: env.RATE_LIMIT_PER_SECOND } : undefined;

// Bearer tokens are optional for the public routes: a stage without LEADLOOP_AUTH_SECRET or
// LEADLOOP_AUTH_JWKS_URL still captures leads, and its admin routes refuse every caller.
const authConfigured = Boolean(process.env.LEADLOOP_AUTH_SECRET || process.env.LEADLOOP_AUTH_JWKS_URL);
const authenticate = authConfigured ? createAuthenticator(authSettingsFromEnv(process.env)) : undefined;

const app = createApp({
  ...runtime.deps,
  log: runtime.log,
  clientIp: sourceIp,
  sales: new DynamoSalesStore({ client: salesClient(), tableName: env.TABLE_NAME }),
  chat: new SlackWebhookNotifier({ env: process.env }),
  records: new DynamoLeadRecords({ client: createDocumentClient(), tableName: env.TABLE_NAME }),
  reports: new DynamoReportStore({ client: createDocumentClient(), tableName: env.TABLE_NAME }),
  rewards: new DynamoRewardsStore({ client: createDocumentClient(), tableName: env.TABLE_NAME }),
  ...(authenticate ? { authenticate } : {}),
  ...(rateLimit ? { rateLimit } : {}),
});

const served = handle(app);

export const handler: typeof served = async (event, context) => {
  beginInvocation(runtime.logger, context);
  // The lead's id is not known until capture has run; its "event published" line carries it, and
  // the request id ties that line to this request's other lines.
  runtime.logger.appendKeys({ requestId: (event as LambdaBindings).requestContext?.requestId });
  return served(event, context);
};
