/**
 * Reward points for a shop or CRM: `POST /v1/customers/{id}/purchases` (bearer token with the
 * integration or admin role) books a purchase once per purchase id, and
 * `GET /v1/customers/{id}/points` shows balance, tier and ledger (integration, admin, marketing).
 * A first booking answers 201; a retry of the same purchase answers 200 with the first answer.
 */
import { pointsStatement, type RewardsDeps, type RewardsStore, recordPurchase, UnauthenticatedError } from "@leadloop/core";
import { bodyLimit } from "hono/body-limit";
import { Hono } from "hono";
import type { AppDeps } from "./app";
import type { Authenticate } from "./auth/bearer";
import { type AuthEnv, requireAuth } from "./auth/middleware";
import { HttpProblem } from "./problem";

export interface CustomerAppDeps {
  /** Verifies bearer tokens; without it the customer routes refuse every caller. */
  authenticate?: Authenticate;
  /** The points ledger; without it the customer routes answer 503. */
  rewards?: RewardsStore;
}

const refuseAll: Authenticate = async () => {
  throw new UnauthenticatedError("missing", "Bearer-token verification is not configured on this deployment, so the customer routes are closed.");
};

/** A purchase is a few fields; anything larger is not one. */
const MAX_BODY_BYTES = 8 * 1024;

export function customerRoutes(deps: AppDeps & CustomerAppDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const authenticate = deps.authenticate ?? refuseAll;
  const rewardsDeps = (): RewardsDeps => {
    if (!deps.rewards) throw new HttpProblem(503, "unavailable", "Not available", "This deployment has no points ledger configured.");
    return { ...deps, rewards: deps.rewards };
  };

  app.post(
    "/v1/customers/:id/purchases",
    requireAuth(authenticate, "integration", "admin"),
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new HttpProblem(413, "too-large", "Body too large", `A purchase is at most ${MAX_BODY_BYTES} bytes of JSON.`);
      },
    }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        throw new HttpProblem(400, "malformed", "Not JSON", 'Send the purchase as JSON: {"purchaseId": "order-1042", "amount": 49.9, "currency": "USD"}.');
      }
      const outcome = await recordPurchase(rewardsDeps(), c.req.param("id"), body);
      return c.json({ points: outcome.points, balance: outcome.balance, tier: outcome.tier }, outcome.created ? 201 : 200);
    },
  );

  app.get("/v1/customers/:id/points", requireAuth(authenticate, "integration", "admin", "marketing"), async (c) => {
    return c.json(await pointsStatement(rewardsDeps(), c.req.param("id")));
  });
  return app;
}
