/**
 * The HTTP API as one hono app: the same module serves API Gateway in AWS (functions/api.ts) and
 * node:http in the local stack; only the adapters behind it differ.
 */
import type { LeadRecordStore, NurtureDeps } from "@leadloop/core";
import { type Context, Hono } from "hono";
import { type ApiKeyAppDeps, apiKeyRoutes } from "./api-key-routes";
import { withApiKeys } from "./auth/api-key";
import type { Authenticate } from "./auth/bearer";
import { captureRoutes } from "./capture-routes";
import { type BroadcastAppDeps, broadcastRoutes } from "./broadcast-routes";
import { type CustomerAppDeps, customerRoutes } from "./customer-routes";
import { errorSummary } from "./error-log";
import { eventsRoutes } from "./events-routes";
import { dataRoutes } from "./data-routes";
import { nurtureRoutes } from "./nurture-routes";
import { pageSecurity } from "./page-security";
import { type PreviewAppDeps, previewRoutes } from "./preview-routes";
import { HttpProblem, problemOf, problemResponse } from "./problem";
import type { SharedLimits } from "./client-limit";
import type { RateLimit } from "./rate-limit";
import { type ReportAppDeps, reportRoutes } from "./report-routes";
import { type SalesAppDeps, salesRoutes } from "./sales-routes";

export interface AppLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface AppDeps extends NurtureDeps, SalesAppDeps, ReportAppDeps, CustomerAppDeps, PreviewAppDeps, BroadcastAppDeps, ApiKeyAppDeps {
  /** The caller's address as the platform saw it (never a client-supplied header). */
  clientIp: (c: Context) => string;
  /** The in-container token bucket per client address (the first, cheap line). */
  rateLimit?: RateLimit;
  /** "refuse" on production stages: forms' loopback origins (http://localhost:3000) may not post there. */
  localOrigins?: "allow" | "refuse";
  /** The per-client windows shared across containers; without them only the bucket limits. */
  sharedLimits?: SharedLimits;
  log: AppLogger;
  /** Verifies bearer tokens for the sales, report and admin routes; without it they refuse every caller. */
  authenticate?: Authenticate;
  /** What GDPR erase and export read and delete; without it those routes answer 503. */
  records?: LeadRecordStore;
}

export function createApp(given: AppDeps): Hono {
  // One verifier for every guarded route: API keys (llk_…) where a key store is configured, JWTs otherwise.
  const authenticate = given.apiKeys ? withApiKeys(given.authenticate, { apiKeys: given.apiKeys, clock: given.clock }) : given.authenticate;
  const deps: AppDeps = { ...given, ...(authenticate ? { authenticate } : {}) };
  const app = new Hono();
  app.use("*", pageSecurity());
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.route("/", captureRoutes(deps));
  app.route("/", eventsRoutes(deps));
  app.route("/", nurtureRoutes(deps));
  app.route("/", salesRoutes(deps));
  app.route("/", reportRoutes(deps));
  app.route("/", customerRoutes(deps));
  app.route("/", dataRoutes(deps));
  app.route("/", previewRoutes(deps));
  app.route("/", broadcastRoutes(deps));
  app.route("/", apiKeyRoutes(deps));

  app.notFound((c) =>
    problemResponse(c, new HttpProblem(404, "not-found", "Not found", `There is no ${c.req.method} ${new URL(c.req.url).pathname}.`)),
  );
  app.onError((error, c) => {
    const { problem } = problemOf(error);
    if (problem.status >= 500) deps.log.error("request failed", { path: new URL(c.req.url).pathname, ...errorSummary(error) });
    return problemResponse(c, error);
  });
  return app;
}
