/**
 * The public HTTP API: API Gateway (HTTP API) in front of one function running the hono app. One
 * function for every route keeps one warm container serving them all; the routes are listed here
 * (not a catch-all) so API Gateway answers unknown paths without waking Lambda.
 */
import type * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { Api, Function as SstFunction, type StackContext, use } from "sst/constructs";
import { Core } from "./core-stack";
import { errorsAlarm, leadloopFunctionProps } from "./leadloop-function";
import { grant } from "./permissions";
import { authEnvironment } from "./stage-settings";

/** DESIGN.md section 5 routes the hono app serves today; later issues add theirs here. */
export const API_ROUTES = [
  "GET /health",
  "POST /v1/forms/{formId}/submissions",
  "POST /v1/events",
  "GET /v1/unsubscribe",
  "POST /v1/unsubscribe",
  "GET /v1/confirm", "POST /v1/confirm",
  "GET /sales",
  "GET /v1/sales/queue",
  "POST /v1/sales/leads/{id}/claim",
  "POST /v1/sales/leads/{id}/outcome",
  "POST /v1/sales/leads/{id}/quality",
  "GET /v1/leads/{id}",
  "POST /v1/customers/{id}/purchases", "GET /v1/customers/{id}/points",
  "GET /v1/reports/funnel", "GET /reports", "GET /assets/chart.umd.js",
  "GET /v1/reports/cohorts", "GET /v1/reports/reviews", "GET /v1/reports/reviews/{leadId}/{closedAt}", "GET /v1/reports/calibration",
  "GET /v1/broadcasts", "GET /v1/broadcasts/{id}", "POST /v1/broadcasts/{id}/dry-run",
  "POST /v1/forms/{formId}/imports", "DELETE /v1/leads/{id}", "GET /v1/leads/{id}/export",
] as const;

export function ApiStack({ stack }: StackContext) {
  const core = use(Core);
  const { settings, configSnapshot } = core;

  // The HS256 bearer-token secret is bound (read from SSM at cold start), never a plain variable;
  // the OIDC issuer's settings are public and go in the environment.
  const fn = new SstFunction(
    stack,
    "ApiFunction",
    leadloopFunctionProps(
      stack,
      "ApiFunction",
      core,
      {
        handler: "functions/api.handler",
        environment: authEnvironment(settings),
        bind: [core.secrets.AUTH_HS256_SECRET],
        // The /reports page serves Chart.js's browser build, which the code reads from node_modules.
        install: ["chart.js"],
      },
      settings.LEADLOOP_PUBLIC_URL,
    ),
  );
  // Capture, claims, outcomes and purchases publish; a purchase that changes a customer's tier
  // sends the tier-change email (rewards.yaml tierChangeTemplate).
  grant(fn, core, ["table", "publish", "send-email"]);
  errorsAlarm(stack, "Api", fn, core.alarmTopic);

  // Browsers preflight cross-origin form posts; API Gateway answers the preflight for every origin
  // any form allows, and the app still checks each post against its own form's list.
  const origins = [...new Set(Object.values(configSnapshot.config.forms).flatMap((form) => form.allowedOrigins ?? []))].sort();

  const api = new Api(stack, "Api", {
    cors: {
      allowOrigins: origins,
      allowMethods: ["GET", "POST"],
      allowHeaders: ["content-type", "authorization"],
      maxAge: "10 minutes",
    },
    routes: Object.fromEntries(API_ROUTES.map((route) => [route, fn])),
  });
  if (!settings.LEADLOOP_PUBLIC_URL) fn.addEnvironment("PUBLIC_URL", api.url);

  // Stage throttling caps the whole API (the app's per-address limit caps each client).
  const stage = api.cdk.httpApi.defaultStage?.node.defaultChild as apigwv2.CfnStage | undefined;
  if (!stage) throw new Error("the HTTP API has no default stage to throttle");
  stage.defaultRouteSettings = {
    throttlingRateLimit: settings.LEADLOOP_API_RATE,
    throttlingBurstLimit: settings.LEADLOOP_API_BURST,
  };

  stack.addOutputs({ ApiUrl: api.url });
  return { api, publicUrl: settings.LEADLOOP_PUBLIC_URL ?? api.url };
}
