/**
 * The cradle-to-grave funnel report for a period: it reads the day aggregates (every shard of
 * every day in the period, never a lead), sums them and derives rates and medians. Its cost grows
 * with days × shards × dimension combinations, not with the number of leads.
 */
import type * as z from "zod";
import { BROADCAST_SEQUENCE_ID } from "../broadcasts/broadcast-sequence-id";
import { daysBetween, Filter, IsoDay, parseReportQuery, reportQuery } from "./report-query";
import {
  type AggregateRow,
  EMAIL_COUNTERS,
  type EmailCounter,
  FUNNEL_STAGES,
  type FunnelStage,
  STAGE_DURATIONS,
  type StageDuration,
  WHOLE_SEQUENCE_STEP,
} from "./report-aggregates";
import type { ReportStore } from "./report-store";
import { emptyHistogram, HISTOGRAM_BUCKETS, type Histogram, medianHours } from "./stage-histogram";

// Kept here too: callers read the period rules from the funnel module.
export { daysBetween, MAX_REPORT_DAYS } from "./report-query";

export const FunnelQuery = reportQuery({
  from: IsoDay,
  to: IsoDay,
  segment: Filter,
  source: Filter,
  form: Filter,
  sequence: Filter,
});
export type FunnelQuery = z.infer<typeof FunnelQuery>;

/** Parses a report query (e.g. from URL parameters); ValidationError names each bad parameter. */
export function parseFunnelQuery(input: Record<string, unknown>): FunnelQuery {
  return parseReportQuery(FunnelQuery, input);
}

export interface StageFigure {
  stage: FunnelStage;
  count: number;
  /** This stage's count over the previous stage's; null for the first stage or when that is 0. */
  conversionFromPrevious: number | null;
}

export interface FunnelFigures {
  stages: StageFigure[];
  outcomes: { won: number; lost: number; disqualified: number; notNow: number };
  /** Won over all closed deals; null when none closed. */
  winRate: number | null;
  /** Won over captured; null when none were captured. */
  overallConversion: number | null;
  /** Median hours spent in each stage, estimated from the duration histograms; null when none. */
  medianHours: Record<StageDuration, number | null>;
  /** How many durations each median rests on. */
  durationSamples: Record<StageDuration, number>;
  lossReasons: { reason: string; count: number }[];
  disqualifyReasons: { reason: string; count: number }[];
  revenueWon: { currency: string; amount: number }[];
}

export interface EmailFigures {
  sent: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
  bounced: number;
  /** Won deals whose lead was sent this step before closing. */
  wonTouches: number;
  openRate: number | null;
  clickRate: number | null;
  unsubscribeRate: number | null;
  bounceRate: number | null;
}

export interface SequenceFigures {
  sequenceId: string;
  /** Won deals whose lead was sent any step of this sequence before closing. */
  wonDeals: number;
  totals: EmailFigures;
  steps: ({ stepId: string } & EmailFigures)[];
}

export interface FunnelReport {
  period: { from: string; to: string; days: number };
  filters: { segment?: string; source?: string; form?: string; sequence?: string };
  totals: FunnelFigures;
  bySegment: ({ segment: string } & FunnelFigures)[];
  bySource: ({ source: string } & FunnelFigures)[];
  byForm: ({ formId: string } & FunnelFigures)[];
  /** Stage counts per day, for a trend line. */
  byDay: ({ day: string } & Record<FunnelStage, number>)[];
  sequences: SequenceFigures[];
  /** Each broadcast's email figures (sent, opened, clicked, unsubscribed, …), one row per broadcast. */
  broadcasts: ({ broadcastId: string } & EmailFigures)[];
}

export interface FunnelReportDeps {
  reports: Pick<ReportStore, "readDay">;
}

/** Days read at once; each day is itself one query per shard. */
const DAY_CONCURRENCY = 8;

export async function buildFunnelReport(deps: FunnelReportDeps, query: FunnelQuery): Promise<FunnelReport> {
  const days = daysBetween(query.from, query.to);
  const rows: AggregateRow[] = [];
  let next = 0;
  const worker = async () => {
    while (next < days.length) {
      const day = days[next++];
      if (day) rows.push(...(await deps.reports.readDay(day)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(DAY_CONCURRENCY, days.length) }, worker));
  return summariseFunnel(rows, query);
}

/** Sums rows (any shards, any days) into the report. Pure, so the math is tested on its own. */
export function summariseFunnel(rows: AggregateRow[], query: FunnelQuery): FunnelReport {
  const days = daysBetween(query.from, query.to);
  const inPeriod = new Set(days);
  const matches = (row: AggregateRow) =>
    inPeriod.has(row.day) &&
    (!query.segment || row.dims.segment === query.segment) &&
    (!query.source || row.dims.source === query.source) &&
    (!query.form || row.dims.formId === query.form);
  const funnelRows = rows.filter((r) => r.kind === "funnel" && matches(r));
  const emailRows = rows.filter(
    (r): r is AggregateRow & { kind: "email"; sequenceId: string; stepId: string } =>
      r.kind === "email" && matches(r) && (!query.sequence || r.sequenceId === query.sequence),
  );

  const groupBy = <K extends string>(key: K, of: (row: AggregateRow) => string) =>
    [...group(funnelRows, of)]
      .map(([value, group]) => ({ [key]: value, ...figures(sumCounters(group)) }) as { [k in K]: string } & FunnelFigures)
      .sort((a, b) => (b.stages[0]?.count ?? 0) - (a.stages[0]?.count ?? 0) || a[key].localeCompare(b[key]));

  const perDay = new Map(days.map((day) => [day, { day, captured: 0, engaged: 0, mql: 0, claimed: 0, won: 0 }]));
  for (const row of funnelRows) {
    const entry = perDay.get(row.day);
    if (entry) for (const stage of FUNNEL_STAGES) entry[stage] += row.counters[stage] ?? 0;
  }

  const filters: FunnelReport["filters"] = {};
  for (const key of ["segment", "source", "form", "sequence"] as const) {
    const value = query[key];
    if (value) filters[key] = value;
  }
  return {
    period: { from: query.from, to: query.to, days: days.length },
    filters,
    totals: figures(sumCounters(funnelRows)),
    bySegment: groupBy("segment", (r) => r.dims.segment),
    bySource: groupBy("source", (r) => r.dims.source),
    byForm: groupBy("formId", (r) => r.dims.formId),
    byDay: [...perDay.values()],
    // A broadcast's messages are counted under the reserved sequence id, its id as the step.
    sequences: sequenceFigures(emailRows.filter((r) => r.sequenceId !== BROADCAST_SEQUENCE_ID)),
    broadcasts: (sequenceFigures(emailRows.filter((r) => r.sequenceId === BROADCAST_SEQUENCE_ID))[0]?.steps ?? []).map(({ stepId, ...figures }) => ({
      broadcastId: stepId,
      ...figures,
    })),
  };
}

function group(rows: AggregateRow[], of: (row: AggregateRow) => string): Map<string, AggregateRow[]> {
  const groups = new Map<string, AggregateRow[]>();
  for (const row of rows) {
    const key = of(row);
    const list = groups.get(key);
    if (list) list.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}

function sumCounters(rows: AggregateRow[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const row of rows) {
    for (const [name, value] of Object.entries(row.counters)) sums.set(name, (sums.get(name) ?? 0) + value);
  }
  return sums;
}

/** A ratio rounded to 4 places; null when the denominator is 0. */
export function rate(numerator: number, denominator: number): number | null {
  return denominator > 0 ? Math.round((numerator / denominator) * 10_000) / 10_000 : null;
}

function prefixed(sums: Map<string, number>, prefix: string): { key: string; value: number }[] {
  return [...sums]
    .filter(([name, value]) => name.startsWith(prefix) && value !== 0)
    .map(([name, value]) => ({ key: name.slice(prefix.length), value }))
    .sort((a, b) => b.value - a.value || a.key.localeCompare(b.key));
}

/** Stage counts, conversions, medians, reasons and revenue from summed counters. */
export function figures(sums: Map<string, number>): FunnelFigures {
  const count = (name: string) => sums.get(name) ?? 0;
  const stages = FUNNEL_STAGES.map((stage, i): StageFigure => {
    const previous = i > 0 ? FUNNEL_STAGES[i - 1] : undefined;
    return { stage, count: count(stage), conversionFromPrevious: previous ? rate(count(stage), count(previous)) : null };
  });
  const outcomes = { won: count("won"), lost: count("lost"), disqualified: count("disqualified"), notNow: count("notNow") };
  const closed = outcomes.won + outcomes.lost + outcomes.disqualified + outcomes.notNow;
  const medians = {} as Record<StageDuration, number | null>;
  const samples = {} as Record<StageDuration, number>;
  for (const duration of STAGE_DURATIONS) {
    const histogram: Histogram = emptyHistogram();
    for (let bucket = 0; bucket < HISTOGRAM_BUCKETS; bucket++) histogram[bucket] = count(`h:${duration}:${bucket}`);
    const median = medianHours(histogram);
    medians[duration] = median === undefined ? null : Math.round(median * 10) / 10;
    samples[duration] = histogram.reduce((a, b) => a + b, 0);
  }
  return {
    stages,
    outcomes,
    winRate: rate(outcomes.won, closed),
    overallConversion: rate(count("won"), count("captured")),
    medianHours: medians,
    durationSamples: samples,
    lossReasons: prefixed(sums, "lost:").map(({ key, value }) => ({ reason: key, count: value })),
    disqualifyReasons: prefixed(sums, "dq:").map(({ key, value }) => ({ reason: key, count: value })),
    revenueWon: prefixed(sums, "revenue:").map(({ key, value }) => ({ currency: key, amount: Math.round(value * 100) / 100 })),
  };
}

function emailFigures(sums: Map<string, number>): EmailFigures {
  const c = Object.fromEntries(EMAIL_COUNTERS.map((name) => [name, sums.get(name) ?? 0])) as Record<EmailCounter, number>;
  return {
    ...c,
    openRate: rate(c.opened, c.sent - c.bounced),
    clickRate: rate(c.clicked, c.sent - c.bounced),
    unsubscribeRate: rate(c.unsubscribed, c.sent),
    bounceRate: rate(c.bounced, c.sent),
  };
}

const naturalOrder = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

function sequenceFigures(rows: (AggregateRow & { kind: "email"; sequenceId: string; stepId: string })[]): SequenceFigures[] {
  const out: SequenceFigures[] = [];
  for (const [sequenceId, sequenceRows] of group(rows, (r) => (r as { sequenceId: string }).sequenceId)) {
    const stepRows = sequenceRows.filter((r) => (r as { stepId: string }).stepId !== WHOLE_SEQUENCE_STEP);
    const whole = sumCounters(sequenceRows.filter((r) => (r as { stepId: string }).stepId === WHOLE_SEQUENCE_STEP));
    const steps = [...group(stepRows, (r) => (r as { stepId: string }).stepId)]
      .map(([stepId, list]) => ({ stepId, ...emailFigures(sumCounters(list)) }))
      .sort((a, b) => naturalOrder(a.stepId, b.stepId));
    out.push({ sequenceId, wonDeals: whole.get("wonDeals") ?? 0, totals: emailFigures(sumCounters(stepRows)), steps });
  }
  return out.sort((a, b) => naturalOrder(a.sequenceId, b.sequenceId));
}
