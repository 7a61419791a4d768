/**
 * The cradle-to-grave funnel for marketing: `GET /v1/reports/funnel` (JSON; bearer token with the
 * marketing or admin role), the /reports page that charts it, and the charting library the page
 * loads from this API (pages may not reach the internet).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { buildFunnelReport, parseFunnelQuery, type ReportStore, UnauthenticatedError } from "@leadloop/core";
import { Hono } from "hono";
import type { AppDeps } from "./app";
import type { Authenticate } from "./auth/bearer";
import { type AuthEnv, requireAuth } from "./auth/middleware";
import { HttpProblem } from "./problem";
import { reportPage } from "./report-page";

export interface ReportAppDeps {
  /** Verifies bearer tokens; without it the report routes refuse every caller. */
  authenticate?: Authenticate;
  /** The report aggregates; without them the report route answers 503. */
  reports?: Pick<ReportStore, "readDay">;
}

/** Days a report covers when the caller names no period: the last 30, today included. */
const DEFAULT_DAYS = 30;

const refuseAll: Authenticate = async () => {
  throw new UnauthenticatedError("missing", "Bearer-token verification is not configured on this deployment, so the report routes are closed.");
};

let chartScript: Promise<string> | undefined;
function loadChartScript(): Promise<string> {
  chartScript ??= (async () => {
    // chart.js exports only its module entry points; the browser build sits beside them.
    const main = createRequire(import.meta.url).resolve("chart.js");
    return readFile(join(dirname(main), "chart.umd.min.js"), "utf8");
  })();
  chartScript.catch(() => {
    chartScript = undefined;
  });
  return chartScript;
}

/** The day `days` before `day`; `day` itself when it is not a date (validation then names it). */
function daysBefore(day: string, days: number): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(t) ? new Date(t - days * 86_400_000).toISOString().slice(0, 10) : day;
}

export function reportRoutes(deps: AppDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const marketing = requireAuth(deps.authenticate ?? refuseAll, "marketing", "admin");

  app.get("/v1/reports/funnel", marketing, async (c) => {
    if (!deps.reports) throw new HttpProblem(503, "unavailable", "Not available", "This deployment has no report store configured.");
    const today = deps.clock.now().toISOString().slice(0, 10);
    const to = c.req.query("to") || today;
    const query = parseFunnelQuery({
      from: c.req.query("from") || daysBefore(to, DEFAULT_DAYS - 1),
      to,
      segment: c.req.query("segment") || undefined,
      source: c.req.query("source") || undefined,
      form: c.req.query("form") || undefined,
      sequence: c.req.query("sequence") || undefined,
    });
    c.header("cache-control", "private, no-store");
    return c.json(await buildFunnelReport({ reports: deps.reports }, query));
  });

  app.get("/reports", (c) => {
    c.header("cache-control", "no-store");
    // The token may arrive in the query string: keep it out of Referer headers.
    c.header("referrer-policy", "no-referrer");
    return c.html(reportPage());
  });

  app.get("/assets/chart.umd.js", async (c) => {
    let script: string;
    try {
      script = await loadChartScript();
    } catch {
      throw new HttpProblem(404, "not-found", "Not found", "The charting library (chart.js) is not installed beside this API.");
    }
    c.header("content-type", "text/javascript; charset=utf-8");
    c.header("cache-control", "public, max-age=86400");
    return c.body(script);
  });

  return app;
}
