/**
 * The weekly cradle-to-grave meeting's reading: the reviews of deals closed in a period, filtered
 * by segment, source, campaign and outcome, with their reasons and the reps' quality verdicts
 * counted; and one deal's whole path, read from its lead's timeline up to the closure. Reading
 * costs one query per day of the period plus the reviews it returns (deals, not leads).
 */
import * as z from "../zod-mini";
import { NotFoundError } from "../errors";
import type { LeadStore } from "../ports";
import { daysBetween, IsoDay, LowerCaseFilter, parseReportQuery, reportQuery } from "../reports/report-query";
import type { ReportStore } from "../reports/report-store";
import { type DealReview, QUALITY_VERDICTS, type QualityFlag, type QualityVerdict, reviewStageHours } from "./deal-review";
import type { LeadQualityStore } from "./lead-quality";


export const ReviewQuery = reportQuery({
  from: IsoDay,
  to: IsoDay,
  segment: LowerCaseFilter,
  source: LowerCaseFilter,
  campaign: LowerCaseFilter,
  outcome: z.optional(z.enum(["won", "lost", "disqualified", "not-now"], { message: "must be won, lost, disqualified or not-now" })),
});
export type ReviewQuery = z.infer<typeof ReviewQuery>;

export function parseReviewQuery(input: Record<string, unknown>): ReviewQuery {
  return parseReportQuery(ReviewQuery, input);
}

export type ReviewEntry = DealReview & { quality?: QualityFlag; stageHours: ReturnType<typeof reviewStageHours> };

export interface ReviewList {
  period: { from: string; to: string };
  filters: Omit<ReviewQuery, "from" | "to">;
  count: number;
  outcomes: { won: number; lost: number; disqualified: number; notNow: number };
  /** Reason codes counted per outcome, most frequent first. */
  reasons: { outcome: DealReview["outcome"]; reason: string; count: number }[];
  quality: Record<QualityVerdict, number> & { unrated: number };
  revenueWon: { currency: string; amount: number }[];
  reviews: ReviewEntry[];
}

export interface ReviewDeps {
  reports: Pick<ReportStore, "listReviews">;
  quality: Pick<LeadQualityStore, "getQualities">;
}

/** Every review closed in [from, to], newest first, with the lead's quality verdict. */
export async function readReviews(deps: ReviewDeps, from: string, to: string): Promise<ReviewEntry[]> {
  const days = daysBetween(from, to);
  const perDay = await Promise.all(days.map((day) => deps.reports.listReviews(day)));
  const reviews = perDay.flat();
  const quality = await deps.quality.getQualities(reviews.map((r) => r.leadId));
  return reviews
    .map((r) => {
      const q = quality.get(r.leadId);
      return { ...r, ...(q ? { quality: q } : {}), stageHours: reviewStageHours(r) };
    })
    .sort((a, b) => b.closedAt.localeCompare(a.closedAt));
}

export async function listDealReviews(deps: ReviewDeps, query: ReviewQuery): Promise<ReviewList> {
  const all = await readReviews(deps, query.from, query.to);
  const reviews = all.filter(
    (r) =>
      (!query.segment || r.dims.segment === query.segment) &&
      (!query.source || r.dims.source === query.source) &&
      (!query.campaign || r.dims.campaign === query.campaign) &&
      (!query.outcome || r.outcome === query.outcome),
  );
  const outcomes = { won: 0, lost: 0, disqualified: 0, notNow: 0 };
  const reasons = new Map<string, { outcome: DealReview["outcome"]; reason: string; count: number }>();
  const quality = { "good-fit": 0, "bad-fit": 0, "wrong-contact": 0, unrated: 0 } as ReviewList["quality"];
  const revenue = new Map<string, number>();
  for (const r of reviews) {
    outcomes[r.outcome === "not-now" ? "notNow" : r.outcome] += 1;
    const reason = r.reason ?? "unspecified";
    const key = `${r.outcome}#${reason}`;
    const entry = reasons.get(key) ?? { outcome: r.outcome, reason, count: 0 };
    entry.count += 1;
    reasons.set(key, entry);
    if (r.quality && QUALITY_VERDICTS.includes(r.quality.verdict)) quality[r.quality.verdict] += 1;
    else quality.unrated += 1;
    if (r.outcome === "won" && r.amount !== undefined) revenue.set(r.currency ?? "unspecified", (revenue.get(r.currency ?? "unspecified") ?? 0) + r.amount);
  }
  const { from, to, ...filters } = query;
  return {
    period: { from, to },
    filters,
    count: reviews.length,
    outcomes,
    reasons: [...reasons.values()].sort((a, b) => b.count - a.count || a.outcome.localeCompare(b.outcome) || a.reason.localeCompare(b.reason)),
    quality,
    revenueWon: [...revenue].map(([currency, amount]) => ({ currency, amount: Math.round(amount * 100) / 100 })),
    reviews,
  };
}

/** Activity data a review may show: identifiers and numbers, never what a visitor typed. */
const PATH_FIELDS = ["formId", "sequenceId", "stepId", "url", "score", "previousScore", "points", "rule", "teamId", "rep", "outcome", "reason", "verdict", "stage", "kind", "segment"] as const;

export interface PathStep {
  at: string;
  type: string;
  data: Partial<Record<(typeof PATH_FIELDS)[number], unknown>>;
}

export interface DealPath {
  review: ReviewEntry;
  path: PathStep[];
  /** The score after each change, in time order. */
  scoreOverTime: { at: string; score: number }[];
  counts: { forms: number; emailsSent: number; opened: number; clicked: number; pages: number };
}

/** How many timeline entries a deal page reads: a lead's whole history, bounded. */
const PATH_LIMIT = 1000;

export async function readDealPath(deps: ReviewDeps & { leads: Pick<LeadStore, "listActivities">; reports: Pick<ReportStore, "getReview" | "listReviews"> }, leadId: string, closedAt: string): Promise<DealPath> {
  const review = await deps.reports.getReview(leadId, closedAt);
  if (!review) throw new NotFoundError(`No review of lead ${leadId} closed at ${closedAt}; pick one from the reviews list.`);
  const quality = (await deps.quality.getQualities([leadId])).get(leadId);
  const activities = (await deps.leads.listActivities(leadId, { limit: PATH_LIMIT })).filter((a) => a.at <= closedAt).sort((a, b) => a.at.localeCompare(b.at));
  const path: PathStep[] = activities.map((a) => {
    const data: PathStep["data"] = {};
    for (const field of PATH_FIELDS) {
      const value = a.data[field];
      if (typeof value === "string" || typeof value === "number") data[field] = typeof value === "string" ? value.slice(0, 300) : value;
    }
    return { at: a.at, type: a.type, data };
  });
  const scoreOverTime = activities
    .map((a) => ({ at: a.at, score: a.data.score }))
    .filter((s): s is { at: string; score: number } => typeof s.score === "number");
  const count = (pred: (t: string) => boolean) => activities.filter((a) => pred(a.type)).length;
  return {
    review: { ...review, ...(quality ? { quality } : {}), stageHours: reviewStageHours(review) },
    path,
    scoreOverTime,
    counts: {
      forms: count((t) => t === "form.submitted"),
      emailsSent: count((t) => t === "email.sent"),
      opened: count((t) => t === "email.opened"),
      clicked: count((t) => t === "email.clicked"),
      pages: count((t) => t.startsWith("web.")),
    },
  };
}
