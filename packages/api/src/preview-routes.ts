/**
 * The marketer's preview and journey view: `/preview` and `/journeys` (pages), and the JSON they
 * call — `GET /v1/preview/emails`, `GET /v1/preview/email`, `POST /v1/preview/test-send` and
 * `GET /v1/journeys`. In a deployed stage every JSON route needs a bearer token with the
 * marketing or admin role; the local stack opens them to anyone on the machine.
 */
import {
  type ComposableLead,
  customerBalance,
  describeJourneys,
  type JourneyCountStore,
  listPreviewItems,
  mayNurture,
  NotFoundError,
  previewEmail,
  sampleLead,
  sendTestEmail,
  TestSendRequest,
  UnauthenticatedError,
} from "@leadloop/core";
import { Hono, type MiddlewareHandler } from "hono";
import type { AppDeps } from "./app";
import type { Authenticate } from "./auth/bearer";
import { type AuthEnv, requireAuth } from "./auth/middleware";
import { journeysPage } from "./journeys-page";
import { previewPage } from "./preview-page";
import { HttpProblem } from "./problem";

export interface PreviewAppDeps {
  /** Leads per sequence step for /journeys; without it the journeys route answers 503. */
  journeys?: JourneyCountStore;
  /** Only the local stack sets this: the marketing tools answer anyone, with no token. */
  openMarketingTools?: boolean;
}

const refuseAll: Authenticate = async () => {
  throw new UnauthenticatedError("missing", "Bearer-token verification is not configured on this deployment, so the preview routes are closed.");
};

function invalid(errors: { field: string; message: string }[]): HttpProblem {
  return new HttpProblem(422, "validation", "Some fields are not valid", errors.map((e) => `${e.field}: ${e.message}`).join("; "), {}, { errors });
}

export function previewRoutes(deps: AppDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const open: MiddlewareHandler = async (_c, next) => next();
  const marketing = deps.openMarketingTools ? open : requireAuth(deps.authenticate ?? refuseAll, "marketing", "admin");

  /** The lead an email is rendered for: a real one by id, else a sample built from a form's fields. */
  const leadFor = async (leadId: string | undefined, form: string | undefined): Promise<{ lead: ComposableLead; source: "lead" | "sample" }> => {
    if (leadId) {
      const lead = await deps.leads.getLead(leadId);
      if (!lead) throw new NotFoundError(`There is no lead "${leadId}". Copy the id from the lead's page or leave it empty for a sample lead.`);
      return { lead, source: "lead" };
    }
    if (form !== undefined && !deps.config.forms[form]) throw invalid([{ field: "form", message: `there is no form "${form}"; pick one of ${Object.keys(deps.config.forms).join(", ")}` }]);
    return { lead: sampleLead(deps.config, form), source: "sample" };
  };

  app.get("/v1/preview/emails", marketing, (c) => {
    c.header("cache-control", "private, no-store");
    return c.json({
      items: listPreviewItems(deps.config),
      forms: Object.entries(deps.config.forms).map(([id, form]) => ({ id, name: form.name })),
    });
  });

  app.get("/v1/preview/email", marketing, async (c) => {
    const item = c.req.query("item");
    if (!item) throw invalid([{ field: "item", message: "name the email to render, e.g. ?item=step:enterprise-nurture/welcome (GET /v1/preview/emails lists them)" }]);
    const { lead, source } = await leadFor(c.req.query("leadId") || undefined, c.req.query("form") || undefined);
    const now = deps.clock.now();
    // A real customer's email shows their points; a sample shows the points fields at a balance of 0.
    const points = source === "lead" ? await customerBalance(deps, lead, now) : deps.config.rewards ? { balance: 0 } : undefined;
    const rendered = previewEmail(deps, item, lead, now, points);
    // A real lead the sweeper would not mail (unsubscribed, bounced, handed to sales) is said so beside its preview.
    const blocked = source === "lead" ? ((await deps.leads.getSuppression(lead.email))?.reason ?? (mayNurture(lead.stage) ? undefined : `stage ${lead.stage}`)) : undefined;
    c.header("cache-control", "private, no-store");
    return c.json({
      ...rendered,
      lead: { source, segment: lead.segment, stage: lead.stage, ...(blocked ? { notSentBecause: blocked } : {}), ...(source === "sample" ? { profile: lead.profile, email: lead.email } : {}) },
    });
  });

  app.post("/v1/preview/test-send", marketing, async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new HttpProblem(400, "malformed", "Not JSON", 'Send JSON: {"item": "step:enterprise-nurture/welcome", "to": "you@example.com"}.');
    }
    const parsed = TestSendRequest.safeParse(body);
    if (!parsed.success) throw invalid(parsed.error.issues.map((issue) => ({ field: issue.path.join(".") || "body", message: issue.message })));
    const { lead } = await leadFor(parsed.data.leadId, parsed.data.form);
    const sent = await sendTestEmail(deps, parsed.data.item, lead, parsed.data.to);
    return c.json({ messageId: sent.messageId, to: sent.email.to, subject: sent.email.subject, item: sent.item.id }, 202);
  });

  app.get("/v1/journeys", marketing, async (c) => {
    if (!deps.journeys) throw new HttpProblem(503, "unavailable", "Not available", "This deployment has no journey counts configured.");
    c.header("cache-control", "private, no-store");
    return c.json({ journeys: await describeJourneys({ config: deps.config, journeys: deps.journeys }) });
  });

  const page = (html: () => string) => (c: Parameters<MiddlewareHandler>[0]) => {
    c.header("cache-control", "no-store");
    // The token may arrive in the query string: keep it out of Referer headers.
    c.header("referrer-policy", "no-referrer");
    return c.html(html());
  };
  app.get("/preview", page(() => previewPage({ open: Boolean(deps.openMarketingTools) })));
  app.get("/journeys", page(() => journeysPage({ open: Boolean(deps.openMarketingTools) })));
  return app;
}
