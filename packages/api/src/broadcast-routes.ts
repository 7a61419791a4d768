/**
 * Broadcasts for marketing (bearer token with the marketing or admin role; the local stack opens
 * them to anyone on the machine, as it opens /preview, whose dry-run button calls them). All read:
 * `GET /v1/broadcasts` lists the configured ones with their progress,
 * `GET /v1/broadcasts/{id}` shows one's progress (queued, sent, skipped, remaining), and
 * `POST /v1/broadcasts/{id}/dry-run` counts who would get it now, and why the rest would not.
 */
import { type BroadcastStore, broadcastProgress, dryRunBroadcast, UnauthenticatedError } from "@leadloop/core";
import { Hono, type MiddlewareHandler } from "hono";
import type { AppDeps } from "./app";
import type { Authenticate } from "./auth/bearer";
import { type AuthEnv, requireAuth } from "./auth/middleware";
import { HttpProblem } from "./problem";

export interface BroadcastAppDeps {
  /** The broadcasts' store; without it these routes answer 503. */
  broadcasts?: BroadcastStore;
}

const refuseAll: Authenticate = async () => {
  throw new UnauthenticatedError("missing", "Bearer-token verification is not configured on this deployment, so the broadcast routes are closed.");
};

export function broadcastRoutes(deps: AppDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const open: MiddlewareHandler = async (_c, next) => next();
  const marketing = deps.openMarketingTools ? open : requireAuth(deps.authenticate ?? refuseAll, "marketing", "admin");
  const store = (): BroadcastStore => {
    if (!deps.broadcasts) throw new HttpProblem(503, "unavailable", "Not available", "This deployment has no broadcast store configured.");
    return deps.broadcasts;
  };

  app.get("/v1/broadcasts", marketing, async (c) => {
    const broadcasts = store();
    const list = await Promise.all(
      deps.config.broadcasts.map(async (b) => ({
        id: b.id,
        name: b.name,
        template: b.template,
        sendAt: b.sendAt,
        progress: await broadcastProgress({ broadcasts, config: deps.config }, b.id),
      })),
    );
    return c.json({ broadcasts: list });
  });
  app.get("/v1/broadcasts/:id", marketing, async (c) => c.json(await broadcastProgress({ broadcasts: store(), config: deps.config }, c.req.param("id"))));
  app.post("/v1/broadcasts/:id/dry-run", marketing, async (c) => c.json(await dryRunBroadcast({ ...deps, broadcasts: store() }, c.req.param("id"))));
  return app;
}
