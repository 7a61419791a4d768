/**
 * The reps' API (bearer token, role rep or admin; the lead page also for marketing) and the
 * /sales page that calls it. Every refusal is problem+json: 401/403 from requireAuth, 409 when
 * another rep holds the lead, 422 naming the outcome field that is wrong and what would be valid.
 */
import {
  markLeadQuality,
  claimLead,
  listQueue,
  recordOutcome,
  type SalesDeps,
  type SalesStore,
  type TeamChat,
  UnauthenticatedError,
  viewLead,
} from "@leadloop/core";
import { Hono } from "hono";
import type { AppDeps } from "./app";
import type { Authenticate } from "./auth/bearer";
import { type AuthEnv, requireAuth } from "./auth/middleware";
import { HttpProblem } from "./problem";
import { salesPage } from "./sales-page";

export interface SalesAppDeps {
  /** Verifies bearer tokens; without it the sales routes refuse every caller. */
  authenticate?: Authenticate;
  /** The sales queue store; without it the sales routes answer 503. */
  sales?: SalesStore;
  chat?: TeamChat;
}

const refuseAll: Authenticate = async () => {
  throw new UnauthenticatedError("missing", "Bearer-token verification is not configured on this deployment, so the sales routes are closed.");
};

export function salesRoutes(deps: AppDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const authenticate = deps.authenticate ?? refuseAll;
  const reps = requireAuth(authenticate, "rep", "admin");
  const readers = requireAuth(authenticate, "rep", "marketing", "admin");
  const sales = (): SalesDeps => {
    if (!deps.sales) throw new HttpProblem(503, "unavailable", "Not available", "This deployment has no sales queue store configured.");
    return {
      config: deps.config,
      leads: deps.leads,
      sales: deps.sales,
      mailer: deps.mailer,
      publisher: deps.publisher,
      clock: deps.clock,
      settings: deps.settings,
      ...(deps.chat ? { chat: deps.chat } : {}),
      log: deps.log,
    };
  };

  app.get("/sales", (c) => {
    c.header("cache-control", "no-store");
    // The page names leads in its URL (?lead=): keep them out of Referer headers.
    c.header("referrer-policy", "no-referrer");
    return c.html(salesPage(deps.config.teams, deps.clock.now()));
  });

  app.get("/v1/sales/queue", reps, async (c) => c.json(await listQueue(sales(), c.get("principal"))));

  app.post("/v1/sales/leads/:id/claim", reps, async (c) => {
    const item = await claimLead(sales(), c.get("principal"), c.req.param("id"));
    return c.json({ leadId: item.leadId, teamId: item.teamId, claimedBy: item.claimedBy, claimedAt: item.claimedAt });
  });

  app.post("/v1/sales/leads/:id/outcome", reps, async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new HttpProblem(400, "malformed", "Not JSON", 'Send the outcome as JSON, e.g. {"outcome":"won","amount":12000,"currency":"EUR"}.');
    }
    const closure = await recordOutcome(sales(), c.get("principal"), c.req.param("id"), body);
    return c.json({ leadId: c.req.param("id"), ...closure });
  });

  app.post("/v1/sales/leads/:id/quality", reps, async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new HttpProblem(400, "malformed", "Not JSON", 'Send the verdict as JSON, e.g. {"verdict":"bad-fit","reason":"too-small"}.');
    }
    if (!deps.quality) throw new HttpProblem(503, "unavailable", "Not available", "This deployment has no lead-quality store configured.");
    const flag = await markLeadQuality({ ...sales(), quality: deps.quality }, c.get("principal"), c.req.param("id"), body);
    return c.json(flag);
  });

  app.get("/v1/leads/:id", readers, async (c) => c.json(await viewLead(sales(), c.get("principal"), c.req.param("id"))));

  return app;
}
