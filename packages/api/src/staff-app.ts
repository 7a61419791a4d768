/**
 * The routes behind a bearer token, and the pages that call them: the sales queue and outcomes,
 * customers' points, imports, export and erase, previews, journeys and broadcasts; and, apart,
 * the reports (`mountReportRoutes`). In AWS each group is its own function (functions/staff-api.ts,
 * functions/reports-api.ts), so neither carries the other's code (the reports' calibration
 * brings the YAML library); locally both are part of app.ts.
 */
import type { LeadRecordStore } from "@leadloop/core";
import type { Hono } from "hono";
import { type ApiKeyAppDeps, apiKeyRoutes } from "./api-key-routes";
import type { PublicAppDeps } from "./app-shell";
import { appShell } from "./app-shell";
import { withApiKeys } from "./auth/api-key";
import { openApiDocument } from "./openapi";
import { type WebhookAppDeps, webhookRoutes } from "./webhook-routes";
import type { Authenticate } from "./auth/bearer";
import { type BroadcastAppDeps, broadcastRoutes } from "./broadcast-routes";
import { type CustomerAppDeps, customerRoutes } from "./customer-routes";
import { dataRoutes } from "./data-routes";
import { type PreviewAppDeps, previewRoutes } from "./preview-routes";
import { type ReportAppDeps, reportRoutes } from "./report-routes";
import { type SalesAppDeps, salesRoutes } from "./sales-routes";

export interface StaffAppDeps extends PublicAppDeps, SalesAppDeps, ReportAppDeps, CustomerAppDeps, PreviewAppDeps, BroadcastAppDeps, ApiKeyAppDeps, WebhookAppDeps {
  /** Verifies bearer tokens for the sales, report and admin routes; without it they refuse every caller. */
  authenticate?: Authenticate;
  /** What GDPR erase and export read and delete; without it those routes answer 503. */
  records?: LeadRecordStore;
}

/**
 * The caller's deps with one verifier for every guarded route: API keys (llk_…) where a key store
 * is configured, JWTs otherwise.
 */
function guarded(given: StaffAppDeps): StaffAppDeps {
  const authenticate = given.apiKeys ? withApiKeys(given.authenticate, { apiKeys: given.apiKeys, clock: given.clock }) : given.authenticate;
  // A view of the caller's deps, not a copy: the local stack swaps `config` in place on a reload,
  // and every route must read the config of the moment.
  return new Proxy(given, { get: (target, key, receiver) => (key === "authenticate" ? authenticate : Reflect.get(target, key, receiver)) });
}

/** The report routes and the /reports page, with the same verifier as the other staff routes. */
export function mountReportRoutes(app: Hono, given: StaffAppDeps): void {
  app.route("/", reportRoutes(guarded(given)));
}

export function mountStaffRoutes(app: Hono, given: StaffAppDeps): void {
  const deps = guarded(given);
  app.route("/", salesRoutes(deps));
  app.route("/", customerRoutes(deps));
  app.route("/", dataRoutes(deps));
  app.route("/", previewRoutes(deps));
  app.route("/", broadcastRoutes(deps));
  app.route("/", apiKeyRoutes(deps));
  app.route("/", webhookRoutes(deps));
  // Public, served by this function so the form's function carries no document generator. Built
  // per request (a few milliseconds): the local stack swaps in an edited config, whose forms shape
  // the submission bodies.
  app.get("/openapi.json", (c) => c.json(openApiDocument(deps.config, new URL(c.req.url).origin)));
}

export function createStaffApp(deps: StaffAppDeps): Hono {
  return appShell(deps.log, (app) => mountStaffRoutes(app, deps));
}

export function createReportsApp(deps: StaffAppDeps): Hono {
  return appShell(deps.log, (app) => mountReportRoutes(app, deps));
}
