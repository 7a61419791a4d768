/**
 * The report's aggregates: what an event adds to which counters. Counters live per day (of the
 * event) and per segment × source × form (the funnel row) or per sequence × step × those same
 * dimensions (the email row). Every name a counter may take is spelled here, once, so the handler
 * that writes them and the report that sums them cannot disagree.
 */
import type { CohortDims } from "./cohort";
import { bucketOf } from "./stage-histogram";

/** Counters of the funnel row, in funnel order. */
export const FUNNEL_STAGES = ["captured", "engaged", "mql", "claimed", "won"] as const;
export type FunnelStage = (typeof FUNNEL_STAGES)[number];

export const CLOSE_OUTCOMES = ["won", "lost", "disqualified", "not-now"] as const;
export type CloseOutcome = (typeof CLOSE_OUTCOMES)[number];

/** Durations kept as histograms on the funnel row, counted on the day the later stage happened. */
export const STAGE_DURATIONS = ["capturedToMql", "mqlToClaimed", "claimedToClosed"] as const;
export type StageDuration = (typeof STAGE_DURATIONS)[number];

export const EMAIL_COUNTERS = ["sent", "opened", "clicked", "unsubscribed", "bounced", "wonTouches"] as const;
export type EmailCounter = (typeof EMAIL_COUNTERS)[number];

/** The email row with this step id counts per sequence (won deals that went through it at all). */
export const WHOLE_SEQUENCE_STEP = "*";

/** Counter names on an aggregate item. Reasons and currencies are cleaned to a safe, short form. */
export const counterName = {
  stage: (stage: FunnelStage | "lost" | "disqualified" | "notNow"): string => stage,
  lostReason: (reason: string): string => `lost:${cleanCode(reason)}`,
  disqualifiedReason: (reason: string): string => `dq:${cleanCode(reason)}`,
  revenue: (currency: string): string => `revenue:${cleanCode(currency).toUpperCase()}`,
  duration: (duration: StageDuration, hours: number): string => `h:${duration}:${bucketOf(hours)}`,
  email: (counter: EmailCounter | "wonDeals"): string => counter,
} as const;

/** A reason code or currency as a counter name can hold it: lower-case letters, digits, `-`, `_`, `.`. */
export function cleanCode(code: string): string {
  const clean = code
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64);
  return clean === "" ? "unspecified" : clean;
}

/** Who a lead is for the report, fixed at capture so a lead stays in one cohort. */
export interface ReportDims {
  segment: string;
  /** `utm_source`, lower-cased, or "direct". */
  source: string;
  formId: string;
}

export function sourceOf(utmSource: unknown): string {
  if (typeof utmSource !== "string") return "direct";
  const clean = utmSource.trim().toLowerCase().slice(0, 100);
  return clean === "" ? "direct" : clean;
}

export interface FunnelIncrement {
  kind: "funnel";
  day: string;
  dims: ReportDims;
  add: Record<string, number>;
}

export interface EmailIncrement {
  kind: "email";
  day: string;
  dims: ReportDims;
  sequenceId: string;
  stepId: string;
  add: Record<string, number>;
}

/** A lead's move in its cohort row (cohort.ts): counters may go down as well as up. */
export interface CohortIncrement {
  kind: "cohort";
  /** The cohort: the UTC day the lead was captured. */
  day: string;
  dims: CohortDims;
  add: Record<string, number>;
}

/** An A/B variant's figures: over the test's whole life, not per day (nurture/ab-test.ts). */
export interface VariantIncrement {
  kind: "variant";
  sequenceId: string;
  stepId: string;
  variantId: string;
  add: Partial<Record<"sent" | "opened" | "clicked" | "mqls" | "wins", number>>;
}

export type AggregateIncrement = FunnelIncrement | EmailIncrement | CohortIncrement | VariantIncrement;

/** A cohort item as read back (one shard's share of one capture day × dimensions). */
export type CohortRow = Omit<CohortIncrement, "add" | "kind"> & { counters: Record<string, number> };

/** An aggregate item as read back (one shard's share of one day × dimensions). */
export type AggregateRow = (Omit<FunnelIncrement, "add"> | Omit<EmailIncrement, "add">) & { counters: Record<string, number> };

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function utcDay(at: string | Date): string {
  const date = typeof at === "string" ? new Date(at) : at;
  return date.toISOString().slice(0, 10);
}

/** Hours between two instants; undefined when either is missing or unreadable. */
export function hoursBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.max(0, ms / 3_600_000) : undefined;
}
