/**
 * API keys, for admins: `POST /v1/admin/api-keys` creates one and shows it once,
 * `GET /v1/admin/api-keys` lists them (name, roles, created, last used, revoked; never the key or
 * its hash), `DELETE /v1/admin/api-keys/{id}` revokes one, refused from the next request on.
 * `npm run apikey` calls these routes.
 */
import { ApiKeyRequest, type ApiKeyStore, createApiKey, listApiKeys, revokeApiKey, UnauthenticatedError } from "@leadloop/core";
import { Hono } from "hono";
import type { AppDeps } from "./app";
import type { Authenticate } from "./auth/bearer";
import { type AuthEnv, requireAuth } from "./auth/middleware";
import { HttpProblem } from "./problem";
import { validationProblem } from "./validation";

export interface ApiKeyAppDeps {
  /** Where API keys live; without it the admin key routes answer 503 and only JWTs authenticate. */
  apiKeys?: ApiKeyStore;
}

const refuseAll: Authenticate = async () => {
  throw new UnauthenticatedError("missing", "Bearer-token verification is not configured on this deployment, so admin routes are closed.");
};

export function apiKeyRoutes(deps: AppDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const admin = requireAuth(deps.authenticate ?? refuseAll, "admin");
  const store = (): { apiKeys: ApiKeyStore; clock: AppDeps["clock"] } => {
    if (!deps.apiKeys) throw new HttpProblem(503, "unavailable", "Not available", "This deployment has no API key store configured.");
    return { apiKeys: deps.apiKeys, clock: deps.clock };
  };

  app.post("/v1/admin/api-keys", admin, async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new HttpProblem(400, "malformed", "Not JSON", 'Send the key as JSON: {"name": "shop-backend", "roles": ["integration"]}.');
    }
    const parsed = ApiKeyRequest.safeParse(body);
    if (!parsed.success) throw validationProblem("Not a valid API key request", parsed.error);
    const created = await createApiKey(store(), parsed.data, c.get("principal").email ?? c.get("principal").subject);
    c.header("cache-control", "no-store");
    return c.json({ ...created, note: "This is the only time the key is shown: store it now." }, 201);
  });

  app.get("/v1/admin/api-keys", admin, async (c) => c.json({ keys: await listApiKeys(store()) }));

  app.delete("/v1/admin/api-keys/:id", admin, async (c) => {
    await revokeApiKey(store(), c.req.param("id"));
    return c.body(null, 204);
  });
  return app;
}
