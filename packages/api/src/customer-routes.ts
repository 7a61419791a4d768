/**
 * Reward points for a shop or CRM (bearer token with the integration or admin role):
 * `POST /v1/customers/{id}/purchases` books a purchase once per purchase id;
 * `POST /v1/customers/{id}/redemptions` spends points on a catalogue reward once per redemption id;
 * `POST /v1/customers/{id}/purchases/{purchaseId}/refund` takes back what a purchase earned, once;
 * `POST /v1/customers/{id}/purchases/{purchaseId}/adjustments` corrects a purchase's points with a
 * reason, once per adjustment id. `GET /v1/customers/{id}/points` shows balance, tier and ledger
 * (integration, admin, marketing). A first booking answers 201; a retry of the same id with the
 * same body answers 200 with the first answer; the same id with another body is a 409.
 */
import {
  adjustPurchase,
  pointsStatement,
  redeemReward,
  refundPurchase,
  type RewardsDeps,
  type RewardsStore,
  recordPurchase,
  UnauthenticatedError,
} from "@leadloop/core";
import { bodyLimit } from "hono/body-limit";
import { type Context, Hono } from "hono";
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

  const integration = requireAuth(authenticate, "integration", "admin");
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new HttpProblem(413, "too-large", "Body too large", `A ledger request is at most ${MAX_BODY_BYTES} bytes of JSON.`);
    },
  });
  /** The JSON body; `example` tells a caller who sent something else what to send. */
  const json = async (c: Context, example: string, optional = false): Promise<unknown> => {
    const text = await c.req.text();
    if (optional && text.trim() === "") return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HttpProblem(400, "malformed", "Not JSON", `Send the request as JSON: ${example}.`);
    }
  };
  const status = (created: boolean) => (created ? 201 : 200);

  app.post("/v1/customers/:id/purchases", integration, limit, async (c) => {
    const body = await json(c, '{"purchaseId": "order-1042", "amount": 49.9, "currency": "USD"}');
    const outcome = await recordPurchase(rewardsDeps(), c.req.param("id"), body);
    return c.json({ points: outcome.points, balance: outcome.balance, tier: outcome.tier }, status(outcome.created));
  });

  app.post("/v1/customers/:id/redemptions", integration, limit, async (c) => {
    const body = await json(c, '{"redemptionId": "r-1042", "rewardId": "free-shipping"}');
    const outcome = await redeemReward(rewardsDeps(), c.req.param("id"), body);
    const { created: _created, tierChanged: _tier, ...answer } = outcome;
    return c.json(answer, status(outcome.created));
  });

  app.post("/v1/customers/:id/purchases/:purchaseId/refund", integration, limit, async (c) => {
    const body = await json(c, '{"reason": "returned"} or no body', true);
    const outcome = await refundPurchase(rewardsDeps(), c.req.param("id"), c.req.param("purchaseId"), body);
    const { created: _created, tierChanged: _tier, ...answer } = outcome;
    return c.json(answer, status(outcome.created));
  });

  app.post("/v1/customers/:id/purchases/:purchaseId/adjustments", integration, limit, async (c) => {
    const body = await json(c, '{"adjustmentId": "adj-1", "points": 50, "reason": "goodwill for a late delivery"}');
    const outcome = await adjustPurchase(rewardsDeps(), c.req.param("id"), c.req.param("purchaseId"), body);
    const { created: _created, tierChanged: _tier, ...answer } = outcome;
    return c.json(answer, status(outcome.created));
  });

  app.get("/v1/customers/:id/points", requireAuth(authenticate, "integration", "admin", "marketing"), async (c) => {
    return c.json(await pointsStatement(rewardsDeps(), c.req.param("id")));
  });
  return app;
}
