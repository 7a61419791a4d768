/**
 * The reports behind the same API Gateway as functions/api.ts and functions/staff-api.ts: the
 * funnel, cohorts, deal reviews, calibration, retention and A/B figures (bearer tokens, marketing
 * or admin role) and the /reports page that charts them. Apart from the other staff routes so
 * neither function carries the other's code: calibration's scoring.yaml suggestion brings the
 * YAML library, which only this function carries, and evaluates on the first calibration.
 */
import { createReportsApp } from "@leadloop/api/staff-app";
import { DynamoReportStore } from "@leadloop/store/dynamo-report-store";
import { httpHandler, noMailer } from "./lib/http-api";
import { staffAppDeps } from "./lib/staff-deps";

// No report route sends email, so this function loads no SES client (and its role may not send).
export const handler = httpHandler(
  (runtime) => createReportsApp({ ...staffAppDeps(runtime), reports: new DynamoReportStore({ client: runtime.client, tableName: runtime.env.TABLE_NAME }) }),
  noMailer,
);
