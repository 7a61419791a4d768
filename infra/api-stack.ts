/**
 * The HTTP API: API Gateway (HTTP API) in front of three functions running the same hono routes.
 * The public routes a website and an email recipient reach (capture, events, unsubscribe,
 * confirm) are one function (functions/api.ts), whose bundle carries only what they run, so a
 * form post's cold start is short; the bearer-token routes and their pages are the other two
 * (functions/staff-api.ts; the reports, functions/reports-api.ts, whose calibration carries the
 * YAML library), the only ones holding the bearer-token secret. The routes are listed here (not
 * a catch-all) so API Gateway answers unknown paths without waking Lambda.
 */
import { isLocalOrigin } from "@leadloop/api/origins";
import { DEFAULT_CLIENT_LIMITS } from "@leadloop/core/client-limits";
import type * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { Api, Function as SstFunction, type StackContext, use } from "sst/constructs";
import { Core } from "./core-stack";
import { errorsAlarm, LOG_RETENTION_NAME, leadloopFunctionProps } from "./leadloop-function";
import { grant, PUBLIC_API_ROUTES, REPORT_API_ROUTES, routesTableAccess } from "./permissions";
import { authEnvironment, isProductionStage } from "./stage-settings";

/**
 * The routes of packages/api/src/public-app.ts, served by the public function, and of the report
 * routes (staff-app.ts `mountReportRoutes`), served by the reports function (listed in permissions.ts).
 */
export { PUBLIC_API_ROUTES, REPORT_API_ROUTES };

/** The routes of packages/api/src/staff-app.ts, served by the staff function; later issues add theirs here. */
export const STAFF_API_ROUTES = [
  "GET /sales",
  "GET /v1/sales/queue",
  "POST /v1/sales/leads/{id}/claim",
  "POST /v1/sales/leads/{id}/outcome",
  "POST /v1/sales/leads/{id}/quality",
  "GET /v1/leads/{id}",
  "POST /v1/customers/{id}/purchases", "GET /v1/customers/{id}/points", "POST /v1/customers/{id}/redemptions",
  "POST /v1/customers/{id}/purchases/{purchaseId}/refund", "POST /v1/customers/{id}/purchases/{purchaseId}/adjustments",
  "GET /v1/broadcasts", "GET /v1/broadcasts/{id}", "POST /v1/broadcasts/{id}/dry-run",
  "POST /v1/forms/{formId}/imports", "DELETE /v1/leads/{id}", "GET /v1/leads/{id}/export",
  "GET /preview", "GET /journeys", "GET /v1/preview/emails", "GET /v1/preview/email", "POST /v1/preview/test-send", "GET /v1/journeys",
  "POST /v1/admin/api-keys", "GET /v1/admin/api-keys", "DELETE /v1/admin/api-keys/{id}", "GET /v1/admin/webhooks",
  "GET /openapi.json",
] as const;

/** DESIGN.md section 5 routes the hono apps serve today. */
export const API_ROUTES = [...PUBLIC_API_ROUTES, ...STAFF_API_ROUTES, ...REPORT_API_ROUTES] as const;

/**
 * The public routes a flood arrives on get their own API Gateway throttle, below the stage's
 * default, so a flood of captures or events is refused at the edge (429, no Lambda invoked) while
 * unsubscribe and the sales routes keep their own allowance. Per client, the app's windows apply.
 */
export const ROUTE_THROTTLES = {
  "POST /v1/forms/{formId}/submissions": { throttlingRateLimit: 20, throttlingBurstLimit: 40 },
  "POST /v1/events": { throttlingRateLimit: 30, throttlingBurstLimit: 60 },
} as const satisfies Partial<Record<(typeof API_ROUTES)[number], { throttlingRateLimit: number; throttlingBurstLimit: number }>>;

/**
 * The API's access log line, as JSON (every value quoted, so it parses even when API Gateway leaves
 * a number empty). It holds the caller's address and user agent: kept for LOG_RETENTION only.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestTime: "$context.requestTime",
  requestId: "$context.requestId",
  httpMethod: "$context.httpMethod",
  path: "$context.path",
  routeKey: "$context.routeKey",
  status: "$context.status",
  responseLatency: "$context.responseLatency",
  integrationStatus: "$context.integration.status",
  integrationError: "$context.integrationErrorMessage",
  ip: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
});

export function ApiStack({ stack }: StackContext) {
  const core = use(Core);
  const { settings, configSnapshot } = core;
  const production = isProductionStage(stack.stage);

  // Both functions count the per-client windows in the table (packages/api/src/client-limit.ts);
  // a production stage refuses the forms' loopback origins (packages/api/src/origins.ts).
  const httpEnvironment = {
    CLIENT_LIMITS: JSON.stringify(DEFAULT_CLIENT_LIMITS),
    ...(production ? { LEADLOOP_LOCAL_ORIGINS: "refuse" } : {}),
  };
  // Capture and site events publish; no public route sends email (the enroll handler sends the
  // double opt-in confirmation), so this function may not.
  const publicFn = new SstFunction(
    stack,
    "ApiFunction",
    leadloopFunctionProps(stack, "ApiFunction", core, { handler: "functions/api.handler", environment: httpEnvironment }, settings.LEADLOOP_PUBLIC_URL),
  );
  grant(publicFn, core, ["table", "publish"], routesTableAccess(PUBLIC_API_ROUTES));
  errorsAlarm(stack, "Api", publicFn, core.alarmTopic);

  // The HS256 bearer-token secret is bound (read from SSM on the first request), never a plain
  // variable; the OIDC issuer's settings are public and go in the environment.
  const tokenFunction = (id: string, handler: string, install?: string[]) =>
    new SstFunction(
      stack,
      id,
      leadloopFunctionProps(
        stack,
        id,
        core,
        {
          handler,
          environment: { ...authEnvironment(settings), ...httpEnvironment },
          bind: [core.secrets.AUTH_HS256_SECRET],
          ...(install ? { install } : {}),
        },
        settings.LEADLOOP_PUBLIC_URL,
      ),
    );
  const staffFn = tokenFunction("StaffApiFunction", "functions/staff-api.handler");
  // Claims, outcomes and points bookings publish; a booking that changes a customer's tier sends
  // the tier-change email (rewards.yaml tierChangeTemplate), and the preview test-sends.
  grant(staffFn, core, ["table", "publish", "send-email"], routesTableAccess(STAFF_API_ROUTES));
  errorsAlarm(stack, "StaffApi", staffFn, core.alarmTopic);
  // The /reports page serves Chart.js's browser build, which the code reads from node_modules.
  // The reports only read: they neither publish nor send.
  const reportsFn = tokenFunction("ReportsApiFunction", "functions/reports-api.handler", ["chart.js"]);
  grant(reportsFn, core, ["table"], routesTableAccess(REPORT_API_ROUTES));
  errorsAlarm(stack, "ReportsApi", reportsFn, core.alarmTopic);

  // Browsers preflight cross-origin form posts; API Gateway answers the preflight for every origin
  // any form allows, and the app still checks each post against its own form's list.
  const origins = [...new Set(Object.values(configSnapshot.config.forms).flatMap((form) => form.allowedOrigins ?? []))]
    .filter((origin) => !(production && isLocalOrigin(origin)))
    .sort();

  const api = new Api(stack, "Api", {
    cors: {
      allowOrigins: origins,
      allowMethods: ["GET", "POST"],
      allowHeaders: ["content-type", "authorization"],
      maxAge: "10 minutes",
    },
    routes: {
      ...Object.fromEntries(PUBLIC_API_ROUTES.map((route) => [route, publicFn])),
      ...Object.fromEntries(STAFF_API_ROUTES.map((route) => [route, staffFn])),
      ...Object.fromEntries(REPORT_API_ROUTES.map((route) => [route, reportsFn])),
    },
    accessLog: { format: ACCESS_LOG_FORMAT, retention: LOG_RETENTION_NAME },
  });
  if (!settings.LEADLOOP_PUBLIC_URL) {
    publicFn.addEnvironment("PUBLIC_URL", api.url);
    staffFn.addEnvironment("PUBLIC_URL", api.url);
    reportsFn.addEnvironment("PUBLIC_URL", api.url);
  }

  // Stage throttling caps each route by default; the flood-prone public routes get their own,
  // lower caps (the app's per-client windows cap each client).
  const stage = api.cdk.httpApi.defaultStage?.node.defaultChild as apigwv2.CfnStage | undefined;
  if (!stage) throw new Error("the HTTP API has no default stage to throttle");
  stage.defaultRouteSettings = {
    throttlingRateLimit: settings.LEADLOOP_API_RATE,
    throttlingBurstLimit: settings.LEADLOOP_API_BURST,
  };
  stage.routeSettings = ROUTE_THROTTLES;

  stack.addOutputs({ ApiUrl: api.url });
  return { api, publicUrl: settings.LEADLOOP_PUBLIC_URL ?? api.url };
}
