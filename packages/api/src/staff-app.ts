/**
 * The routes behind a bearer token, and the pages that call them: the sales queue and outcomes,
 * reports, customers' points, imports, export and erase, previews, journeys and broadcasts. In
 * AWS they are their own function (functions/staff-api.ts); locally they are part of app.ts.
 */
import type { LeadRecordStore } from "@leadloop/core";
import type { Hono } from "hono";
import { type ApiKeyAppDeps, apiKeyRoutes } from "./api-key-routes";
import type { PublicAppDeps } from "./app-shell";
import { appShell } from "./app-shell";
import { withApiKeys } from "./auth/api-key";
import type { Authenticate } from "./auth/bearer";
import { type BroadcastAppDeps, broadcastRoutes } from "./broadcast-routes";
import { type CustomerAppDeps, customerRoutes } from "./customer-routes";
import { dataRoutes } from "./data-routes";
import { type PreviewAppDeps, previewRoutes } from "./preview-routes";
import { type ReportAppDeps, reportRoutes } from "./report-routes";
import { type SalesAppDeps, salesRoutes } from "./sales-routes";

export interface StaffAppDeps extends PublicAppDeps, SalesAppDeps, ReportAppDeps, CustomerAppDeps, PreviewAppDeps, BroadcastAppDeps, ApiKeyAppDeps {
  /** Verifies bearer tokens for the sales, report and admin routes; without it they refuse every caller. */
  authenticate?: Authenticate;
  /** What GDPR erase and export read and delete; without it those routes answer 503. */
  records?: LeadRecordStore;
}

export function mountStaffRoutes(app: Hono, given: StaffAppDeps): void {
  // One verifier for every guarded route: API keys (llk_…) where a key store is configured, JWTs otherwise.
  const authenticate = given.apiKeys ? withApiKeys(given.authenticate, { apiKeys: given.apiKeys, clock: given.clock }) : given.authenticate;
  const deps: StaffAppDeps = { ...given, ...(authenticate ? { authenticate } : {}) };
  app.route("/", salesRoutes(deps));
  app.route("/", reportRoutes(deps));
  app.route("/", customerRoutes(deps));
  app.route("/", dataRoutes(deps));
  app.route("/", previewRoutes(deps));
  app.route("/", broadcastRoutes(deps));
  app.route("/", apiKeyRoutes(deps));
}

export function createStaffApp(deps: StaffAppDeps): Hono {
  return appShell(deps.log, (app) => mountStaffRoutes(app, deps));
}
