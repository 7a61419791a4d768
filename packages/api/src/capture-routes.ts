/**
 * `POST /v1/forms/{formId}/submissions`: the front door. JSON clients get 202 {leadId, token} for
 * a new lead and 202 {leadId} for a known address; browser form posts get 303 to the thank-you
 * page (or back to the form with the error).
 *
 * Anyone can type anyone's address, so a lead token (a year of reporting behaviour as that lead)
 * goes only to the submission that created the lead. A later submission may send that token back
 * as the `leadToken` field to show it comes from the lead's own browser; only then may it change
 * what the lead told us before (see core's lead-merge.ts).
 */
import { captureLead, decoyLeadId, expiresIn, type Form, UnknownFormError, ValidationError, WindowFullError } from "@leadloop/core";
import { type Context, Hono } from "hono";
import type { PublicAppDeps } from "./app-shell";
import { originListed } from "./origins";
import { HttpProblem, problemOf, problemResponse } from "./problem";
import { clientLimit, submissionLimits } from "./client-limit";
import { readSubmission } from "./submission-body";

/** Lead tokens let the site script report behaviour for a year. */
const LEAD_TOKEN_DAYS = 365;

function formOf(deps: PublicAppDeps, formId: string): Form {
  const form = Object.hasOwn(deps.config.forms, formId) ? deps.config.forms[formId] : undefined;
  if (!form) throw new UnknownFormError(formId);
  return form;
}


function corsHeaders(origin: string): Record<string, string> {
  return { "access-control-allow-origin": origin, vary: "Origin" };
}

function refuseOrigin(origin: string): HttpProblem {
  return new HttpProblem(
    403,
    "origin-not-allowed",
    "Origin not allowed",
    `Pages on ${origin} may not post this form. Add the origin to the form's allowedOrigins in config/forms.yaml.`,
  );
}

function wantsJson(c: Context, kind: "json" | "form"): boolean {
  return kind === "json" || (c.req.header("accept") ?? "").includes("application/json");
}

/** Sends a browser back to the form, with what went wrong in the query string. */
function redirectBack(c: Context, error: unknown, allowed: (origin: string) => boolean): Response | undefined {
  const referer = c.req.header("referer");
  if (!referer || !URL.canParse(referer)) return undefined;
  const back = new URL(referer);
  if (!allowed(back.origin)) return undefined;
  const { problem } = problemOf(error);
  back.searchParams.set("leadloop_error", problem.detail);
  if (error instanceof ValidationError) back.searchParams.set("leadloop_fields", error.issues.map((i) => i.field).join(","));
  return c.redirect(back.toString(), 303);
}

export function captureRoutes(deps: PublicAppDeps): Hono {
  const app = new Hono();
  /** The origin may post when the form lists it, or when it is the API's own (the demo page); see origins.ts. */
  const originAllowed = (c: Context, form: Form, origin: string) => originListed(c, form.allowedOrigins, origin, deps.localOrigins === "refuse");
  const limit = clientLimit({
    scope: "capture",
    what: "submissions",
    local: deps.rateLimit ?? { burst: 20, perSecond: 0.5 },
    shared: deps.sharedLimits,
    sharedInRoute: true,
    clientIp: deps.clientIp,
    cors: (c) => {
      const origin = c.req.header("origin");
      const form = Object.hasOwn(deps.config.forms, c.req.param("formId") ?? "") ? deps.config.forms[c.req.param("formId")!] : undefined;
      return origin && form && originAllowed(c, form, origin) ? corsHeaders(origin) : {};
    },
  });

  const limitSubmission = deps.submissionLimits ?? submissionLimits(deps.sharedLimits);

  app.options("/v1/forms/:formId/submissions", (c) => {
    const form = formOf(deps, c.req.param("formId"));
    const origin = c.req.header("origin");
    if (!origin) return c.body(null, 204);
    if (!originAllowed(c, form, origin)) throw refuseOrigin(origin);
    return c.body(null, 204, {
      ...corsHeaders(origin),
      "access-control-allow-methods": "POST, OPTIONS",
      "access-control-allow-headers": c.req.header("access-control-request-headers") ?? "content-type",
      "access-control-max-age": "600",
    });
  });

  app.post("/v1/forms/:formId/submissions", limit, async (c) => {
    const formId = c.req.param("formId");
    const origin = c.req.header("origin");
    const headers: Record<string, string> = {};
    const form = formOf(deps, formId);
    if (origin) {
      if (!originAllowed(c, form, origin)) throw refuseOrigin(origin);
      Object.assign(headers, corsHeaders(origin));
    }
    const ip = deps.clientIp(c);

    const { kind, fields: submitted } = await readSubmission(c);
    const { leadToken, ...fields } = submitted;
    const emailLimit = await limitSubmission(ip, fields.email, headers);
    const provenLeadId = leadOfToken(deps, leadToken);
    const json = wantsJson(c, kind);
    let outcome: Awaited<ReturnType<typeof captureLead>>;
    try {
      const referrer = c.req.header("referer");
      outcome = await captureLead(deps, formId, fields, {
        ip,
        userAgent: c.req.header("user-agent") ?? "",
        ...(referrer ? { referrer, landingPage: referrer } : {}),
        ...(provenLeadId ? { provenLeadId } : {}),
        ...(emailLimit ? { window: emailLimit.window } : {}),
        utm: Object.fromEntries(
          ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]
            .map((k) => [k, c.req.query(k)])
            .filter(([, v]) => v),
        ),
      });
    } catch (error) {
      if (error instanceof WindowFullError && emailLimit) throw emailLimit.full();
      if (!json) {
        const back = redirectBack(c, error, (o) => originAllowed(c, form, o));
        if (back) return back;
      }
      const { problem } = problemOf(error);
      if (problem.status < 500) return withHeaders(problemResponse(c, error), headers);
      throw error;
    }

    // A bot that filled the honeypot sees exactly what a person would, with an id that exists nowhere.
    const leadId = outcome.kind === "stored" ? outcome.lead.id : decoyLeadId();
    if (!json) return c.redirect(form.thankYouUrl, 303);
    // A known address gets its id (it grants nothing) but no token: the token is the lead's.
    if (outcome.kind === "stored" && !outcome.created) return c.json({ leadId }, 202, headers);
    const token = deps.signer.sign({ sub: leadId, purpose: "lead", exp: expiresIn(deps.clock.now(), LEAD_TOKEN_DAYS) });
    return c.json({ leadId, token }, 202, headers);
  });

  return app;
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [k, v] of Object.entries(headers)) response.headers.set(k, v);
  return response;
}

/** The lead a valid lead token names; a missing, stale or forged one proves nothing (and is no error). */
function leadOfToken(deps: PublicAppDeps, token: unknown): string | undefined {
  if (typeof token !== "string" || token === "") return undefined;
  try {
    return deps.signer.verify(token, "lead", deps.clock.now()).sub;
  } catch {
    return undefined;
  }
}
