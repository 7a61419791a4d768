/**
 * `POST /v1/events`: the site script reports a known lead's behaviour (page views, downloads,
 * webinar attendance), naming the lead by the signed token capture returned. JSON, or JSON sent
 * as text/plain (navigator.sendBeacon cannot set another type without a preflight). 202 when
 * recorded; 401 for a forged or expired token; 422 naming each wrong field.
 */
import { PublishError, recordSiteEvent } from "@leadloop/core";
import { type Context, Hono } from "hono";
import type { PublicAppDeps } from "./app-shell";
import { originListed } from "./origins";
import { HttpProblem, problemOf, problemResponse } from "./problem";
import { readLimited } from "./submission-body";
import { clientLimit } from "./client-limit";
import { errorSummary } from "./error-log";

export const EVENT_BODY_LIMIT_BYTES = 4 * 1024;

/** Any origin one of the forms lists may report events, and the API's own (the demo page); see origins.ts. */
function originAllowed(deps: PublicAppDeps, c: Context, origin: string): boolean {
  return Object.values(deps.config.forms).some((form) => originListed(c, form.allowedOrigins, origin, deps.localOrigins === "refuse"));
}

function refuseOrigin(origin: string): HttpProblem {
  return new HttpProblem(
    403,
    "origin-not-allowed",
    "Origin not allowed",
    `Pages on ${origin} may not report events. Add the origin to a form's allowedOrigins in config/forms.yaml.`,
  );
}

async function readEventBody(c: Context): Promise<unknown> {
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json" && mediaType !== "text/plain" && !mediaType.endsWith("+json")) {
    throw new HttpProblem(
      415,
      "unsupported-media-type",
      "Unsupported content type",
      `Content type "${mediaType || "(none)"}" is not accepted. Send a JSON object as application/json, or as text/plain with navigator.sendBeacon.`,
    );
  }
  const tooLarge = () => new HttpProblem(413, "body-too-large", "Event too large", `An event may be at most ${EVENT_BODY_LIMIT_BYTES / 1024} KiB.`);
  const bytes = await readLimited(c, EVENT_BODY_LIMIT_BYTES, tooLarge);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new HttpProblem(400, "malformed-json", "Malformed JSON", `The body is not valid JSON: ${(error as Error).message}`);
  }
}

export function eventsRoutes(deps: PublicAppDeps): Hono {
  const app = new Hono();
  // Page views come oftener than form posts: a roomier bucket than capture's, per address alike.
  const limit = clientLimit({
    scope: "events",
    what: "events",
    local: deps.rateLimit ?? { burst: 60, perSecond: 1 },
    shared: deps.sharedLimits,
    clientIp: deps.clientIp,
    cors: (c): Record<string, string> => {
      const origin = c.req.header("origin");
      return origin && originAllowed(deps, c, origin) ? { "access-control-allow-origin": origin, vary: "Origin" } : {};
    },
  });

  app.options("/v1/events", (c) => {
    const origin = c.req.header("origin");
    if (!origin) return c.body(null, 204);
    if (!originAllowed(deps, c, origin)) throw refuseOrigin(origin);
    return c.body(null, 204, {
      "access-control-allow-origin": origin,
      vary: "Origin",
      "access-control-allow-methods": "POST, OPTIONS",
      "access-control-allow-headers": c.req.header("access-control-request-headers") ?? "content-type",
      "access-control-max-age": "600",
    });
  });

  app.post("/v1/events", limit, async (c) => {
    const origin = c.req.header("origin");
    const cors: Record<string, string> = {};
    if (origin) {
      if (!originAllowed(deps, c, origin)) throw refuseOrigin(origin);
      Object.assign(cors, { "access-control-allow-origin": origin, vary: "Origin" });
    }
    try {
      await recordSiteEvent(deps, await readEventBody(c));
    } catch (error) {
      if (error instanceof PublishError) {
        // The activity is stored and the score saved; a lost announcement is retried when the
        // lead is next scored. The page has nothing to do about it.
        deps.log.warn("site event recorded but an event was not published", errorSummary(error));
        return c.body(null, 202, cors);
      }
      // Problems go back with the CORS headers, so the script can read what was wrong.
      if (problemOf(error).problem.status >= 500) throw error;
      const response = problemResponse(c, error);
      for (const [k, v] of Object.entries(cors)) response.headers.set(k, v);
      return response;
    }
    return c.body(null, 202, cors);
  });

  return app;
}
