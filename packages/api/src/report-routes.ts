/**
 * The cradle-to-grave funnel for marketing: `GET /v1/reports/funnel` (JSON; bearer token with the
 * marketing or admin role), the cohorts, deal reviews, calibration and retention (`/v1/reports/retention`), the /reports page that charts it, and the charting library the page
 * loads from this API (pages may not reach the internet).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  buildAbTestReport,
  buildCohortReport,
  buildFunnelReport,
  buildRetentionReport,
  type LeadQualityStore,
  type LeadStore,
  listDealReviews,
  parseCohortQuery,
  parseFunnelQuery,
  parseRetentionQuery,
  parseReviewQuery,
  readDealPath,
  readReviews,
  type ReportStore,
  rewardsOf,
  UnauthenticatedError,
  ValidationError,
} from "@leadloop/core";
import { Hono } from "hono";
import type { AppDeps } from "./app";
import type { Authenticate } from "./auth/bearer";
import { type AuthEnv, requireAuth } from "./auth/middleware";
import { HttpProblem } from "./problem";
import { reportPage } from "./report-page";

export interface ReportAppDeps {
  /** Verifies bearer tokens; without it the report routes refuse every caller. */
  authenticate?: Authenticate;
  /** The report aggregates and deal reviews; without them the report routes answer 503. */
  reports?: Pick<ReportStore, "readDay" | "readCohortDay" | "listReviews" | "getReview" | "variantFigures" | "getAbDecision">;
  /** The reps' lead-quality verdicts (the reviews and calibration count them). */
  quality?: LeadQualityStore;
  /** config/scoring.yaml as written, so calibration's diff keeps the marketer's comments. */
  scoringYaml?: string;
}

/** Calibration's defaults: a quarter of outcomes, 20 closed deals at least, 15 hand-offs per rep a week. */
export const CALIBRATION_DEFAULTS = { days: 90, minDeals: 20, capacityPerRepPerWeek: 15 } as const;

const noQuality: LeadQualityStore = {
  setQuality: async () => {
    throw new HttpProblem(503, "unavailable", "Not available", "This deployment has no lead-quality store configured.");
  },
  getQualities: async () => new Map(),
};

/** A positive whole number from a query parameter, or the default; ValidationError names the parameter. */
function wholeParam(value: string | undefined, name: string, fallback: number, example: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ValidationError([{ field: name, message: `must be a whole number greater than 0, e.g. ${example}` }]);
  return n;
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

  const store = () => {
    if (!deps.reports) throw new HttpProblem(503, "unavailable", "Not available", "This deployment has no report store configured.");
    return deps.reports;
  };
  const period = (c: { req: { query(name: string): string | undefined } }, days: number) => {
    const today = deps.clock.now().toISOString().slice(0, 10);
    const to = c.req.query("to") || today;
    return { from: c.req.query("from") || daysBefore(to, days - 1), to };
  };

  app.get("/v1/reports/cohorts", marketing, async (c) => {
    const reports = store();
    const q = (name: string) => c.req.query(name) || undefined;
    const query = parseCohortQuery({
      ...period(c, DEFAULT_DAYS),
      grain: q("grain"),
      segment: q("segment"),
      formId: q("form") ?? q("formId"),
      source: q("source"),
      medium: q("medium"),
      campaign: q("campaign"),
      team: q("team"),
      rep: q("rep"),
    });
    c.header("cache-control", "private, no-store");
    return c.json(await buildCohortReport({ reports }, query));
  });

  app.get("/v1/reports/ab-tests", marketing, async (c) => {
    const reports = store();
    c.header("cache-control", "private, no-store");
    return c.json(await buildAbTestReport({ config: deps.config, reports }));
  });

  app.get("/v1/reports/reviews", marketing, async (c) => {
    const reports = store();
    const q = (name: string) => c.req.query(name) || undefined;
    const query = parseReviewQuery({ ...period(c, 7), segment: q("segment"), source: q("source"), campaign: q("campaign"), outcome: q("outcome") });
    c.header("cache-control", "private, no-store");
    return c.json(await listDealReviews({ reports, quality: deps.quality ?? noQuality }, query));
  });

  app.get("/v1/reports/reviews/:leadId/:closedAt", marketing, async (c) => {
    const reports = store();
    c.header("cache-control", "private, no-store");
    const leads = deps.leads as Pick<LeadStore, "listActivities">;
    return c.json(await readDealPath({ reports, quality: deps.quality ?? noQuality, leads }, c.req.param("leadId"), c.req.param("closedAt")));
  });

  // Retention: purchases, repeat purchases, points earned, redeemed, taken back and lapsed, by tier.
  app.get("/v1/reports/retention", marketing, async (c) => {
    const rewardsConfig = rewardsOf(deps.config);
    if (!deps.rewards) throw new HttpProblem(503, "unavailable", "Not available", "This deployment has no points ledger configured.");
    const query = parseRetentionQuery(period(c, DEFAULT_DAYS));
    c.header("cache-control", "private, no-store");
    return c.json(await buildRetentionReport({ rewards: deps.rewards, rewardsConfig }, query));
  });

  app.get("/v1/reports/calibration", marketing, async (c) => {
    const reports = store();
    const range = period(c, CALIBRATION_DEFAULTS.days);
    parseReviewQuery(range);
    const minDeals = wholeParam(c.req.query("minDeals"), "minDeals", CALIBRATION_DEFAULTS.minDeals, "20");
    const capacity = wholeParam(c.req.query("capacity"), "capacity", CALIBRATION_DEFAULTS.capacityPerRepPerWeek, "15");
    const reviews = await readReviews({ reports, quality: deps.quality ?? noQuality }, range.from, range.to);
    const days = (Date.parse(range.to) - Date.parse(range.from)) / 86_400_000 + 1;
    // Loaded on the first calibration, not when the function starts: its scoring.yaml suggestion
    // brings the YAML library, which no other report route runs.
    const { calibrateScoring } = await import("@leadloop/core/calibration/calibrate");
    c.header("cache-control", "private, no-store");
    return c.json({
      period: range,
      ...calibrateScoring({
        config: deps.config,
        ...(deps.scoringYaml !== undefined ? { scoringYaml: deps.scoringYaml } : {}),
        reviews,
        weeks: days / 7,
        capacityPerRepPerWeek: capacity,
        minDeals,
      }),
    });
  });

  app.get("/reports", (c) => {
    c.header("cache-control", "no-store");
    // The page names leads in its URL (?lead=): keep them out of Referer headers.
    c.header("referrer-policy", "no-referrer");
    return c.html(reportPage(deps.clock.now()));
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
