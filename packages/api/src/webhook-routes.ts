/**
 * `GET /v1/admin/webhooks` (admin): each endpoint of config/webhooks.yaml with its events and
 * filter and its latest deliveries, newest first: state, attempts with their time, status code
 * or error, and when the next attempt is due. Bodies are left out (they carry leads' data).
 */
import { UnauthenticatedError, type WebhookStore, webhookStatus } from "@leadloop/core";
import { Hono } from "hono";
import type { AppDeps } from "./app";
import type { Authenticate } from "./auth/bearer";
import { type AuthEnv, requireAuth } from "./auth/middleware";
import { HttpProblem } from "./problem";

export interface WebhookAppDeps {
  /** Where deliveries are recorded; without it the route answers 503. */
  webhooks?: WebhookStore;
  /** Whether this process can reach an endpoint (its URL and key are set); unknown in the API function. */
  webhookConfigured?: (endpointId: string) => boolean;
}

const refuseAll: Authenticate = async () => {
  throw new UnauthenticatedError("missing", "Bearer-token verification is not configured on this deployment, so admin routes are closed.");
};

export function webhookRoutes(deps: AppDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get("/v1/admin/webhooks", requireAuth(deps.authenticate ?? refuseAll, "admin"), async (c) => {
    if (!deps.webhooks) throw new HttpProblem(503, "unavailable", "Not available", "This deployment has no webhook delivery store configured.");
    const limit = Math.min(100, Math.max(1, Number(c.req.query("limit") ?? 20) || 20));
    const endpoints = await webhookStatus(
      { config: deps.config, webhooks: deps.webhooks, ...(deps.webhookConfigured ? { configured: deps.webhookConfigured } : {}) },
      limit,
    );
    return c.json({ endpoints });
  });
  return app;
}
