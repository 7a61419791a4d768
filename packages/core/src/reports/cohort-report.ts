/**
 * The cohort funnel for a period: leads captured in each week or month of it, followed through
 * engaged, MQL, claimed and closed (won, lost, disqualified, not now), with each stage's conversion
 * from the one before, the median time in each stage, the same figures for the period before, and
 * a breakdown by every dimension. It reads cohort rows (capture days × shards × dimension values),
 * never a lead, so its cost does not grow with the number of leads.
 */
import * as z from "zod";
import { COHORT_DIMENSIONS, COHORT_DURATIONS, COHORT_STAGES, type CohortDimension, type CohortDuration, type CohortStage, cohortCounter } from "./cohort";
import { rate } from "./funnel-report";
import { daysBetween, IsoDay, LowerCaseFilter, parseReportQuery, reportQuery } from "./report-query";
import type { CohortRow } from "./report-aggregates";
import type { ReportStore } from "./report-store";
import { emptyHistogram, HISTOGRAM_BUCKETS, medianHours } from "./stage-histogram";


export const CohortQuery = reportQuery({
  from: IsoDay,
  to: IsoDay,
  grain: z.enum(["week", "month"], { message: "must be week or month" }).default("week"),
  segment: LowerCaseFilter,
  formId: LowerCaseFilter,
  source: LowerCaseFilter,
  medium: LowerCaseFilter,
  campaign: LowerCaseFilter,
  team: LowerCaseFilter,
  rep: LowerCaseFilter,
});
export type CohortQuery = z.infer<typeof CohortQuery>;

/** Parses URL parameters (`form` is accepted for `formId`); ValidationError names each bad one. */
export function parseCohortQuery(input: Record<string, unknown>): CohortQuery {
  return parseReportQuery(CohortQuery, input);
}

export interface CohortStageFigure {
  stage: CohortStage;
  count: number;
  /** Share of the previous stage's leads that reached this one; null for the first or when that is 0. */
  conversionFromPrevious: number | null;
}

export interface CohortFigures {
  stages: CohortStageFigure[];
  outcomes: { won: number; lost: number; disqualified: number; notNow: number };
  /** Median hours in each stage (estimated from log-spaced buckets); null when none passed through it. */
  medianHours: Record<CohortDuration, number | null>;
  durationSamples: Record<CohortDuration, number>;
}

export interface CohortReport {
  period: { from: string; to: string; days: number };
  /** The period of the same length just before, for period-over-period comparison. */
  previousPeriod: { from: string; to: string };
  grain: "week" | "month";
  filters: Partial<Record<CohortDimension, string>>;
  totals: CohortFigures;
  previous: CohortFigures;
  /** This period's count minus the previous period's, per stage. */
  change: { stage: CohortStage; count: number; previous: number; delta: number }[];
  cohorts: ({ cohort: string; from: string; to: string } & CohortFigures)[];
  by: Record<CohortDimension, ({ value: string } & CohortFigures)[]>;
}

const DAY_MS = 86_400_000;
const dayAt = (day: string) => Date.parse(`${day}T00:00:00Z`);
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** The cohort a capture day belongs to: the Monday of its ISO week, or its month (YYYY-MM). */
export function cohortOf(day: string, grain: "week" | "month"): string {
  if (grain === "month") return day.slice(0, 7);
  const t = dayAt(day);
  const weekday = (new Date(t).getUTCDay() + 6) % 7;
  return isoDay(t - weekday * DAY_MS);
}

export interface CohortReportDeps {
  reports: Pick<ReportStore, "readCohortDay">;
}

const DAY_CONCURRENCY = 8;

async function readDays(deps: CohortReportDeps, days: string[]): Promise<CohortRow[]> {
  const rows: CohortRow[] = [];
  let next = 0;
  const worker = async () => {
    while (next < days.length) {
      const day = days[next++];
      if (day) rows.push(...(await deps.reports.readCohortDay(day)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(DAY_CONCURRENCY, days.length) }, worker));
  return rows;
}

export async function buildCohortReport(deps: CohortReportDeps, query: CohortQuery): Promise<CohortReport> {
  const days = daysBetween(query.from, query.to);
  const previousPeriod = { from: isoDay(dayAt(query.from) - days.length * DAY_MS), to: isoDay(dayAt(query.from) - DAY_MS) };
  const [rows, previousRows] = await Promise.all([readDays(deps, days), readDays(deps, daysBetween(previousPeriod.from, previousPeriod.to))]);
  return summariseCohorts(rows, previousRows, query);
}

/** Sums cohort rows into the report. Pure, so the arithmetic is tested on its own. */
export function summariseCohorts(rows: CohortRow[], previousRows: CohortRow[], query: CohortQuery): CohortReport {
  const days = daysBetween(query.from, query.to);
  const previousPeriod = { from: isoDay(dayAt(query.from) - days.length * DAY_MS), to: isoDay(dayAt(query.from) - DAY_MS) };
  const filters: Partial<Record<CohortDimension, string>> = {};
  for (const dim of COHORT_DIMENSIONS) {
    const value = query[dim];
    if (value) filters[dim] = value;
  }
  const matches = (row: CohortRow) => COHORT_DIMENSIONS.every((dim) => !filters[dim] || row.dims[dim] === filters[dim]);
  const inPeriod = new Set(days);
  const current = rows.filter((r) => inPeriod.has(r.day) && matches(r));
  const before = previousRows.filter((r) => r.day >= previousPeriod.from && r.day <= previousPeriod.to && matches(r));

  const totals = cohortFigures(sum(current));
  const previous = cohortFigures(sum(before));
  const cohorts = new Map<string, { from: string; to: string; rows: CohortRow[] }>();
  for (const day of days) {
    const key = cohortOf(day, query.grain);
    const entry = cohorts.get(key) ?? { from: day, to: day, rows: [] };
    entry.to = day;
    cohorts.set(key, entry);
  }
  for (const row of current) cohorts.get(cohortOf(row.day, query.grain))?.rows.push(row);

  const by = {} as CohortReport["by"];
  for (const dim of COHORT_DIMENSIONS) {
    const groups = new Map<string, CohortRow[]>();
    for (const row of current) {
      const list = groups.get(row.dims[dim]) ?? [];
      list.push(row);
      groups.set(row.dims[dim], list);
    }
    by[dim] = [...groups]
      .map(([value, list]) => ({ value, ...cohortFigures(sum(list)) }))
      .filter((g) => g.stages.some((s) => s.count !== 0))
      .sort((a, b) => (b.stages[0]?.count ?? 0) - (a.stages[0]?.count ?? 0) || a.value.localeCompare(b.value));
  }
  return {
    period: { from: query.from, to: query.to, days: days.length },
    previousPeriod,
    grain: query.grain,
    filters,
    totals,
    previous,
    change: totals.stages.map((s, i) => {
      const was = previous.stages[i]?.count ?? 0;
      return { stage: s.stage, count: s.count, previous: was, delta: s.count - was };
    }),
    cohorts: [...cohorts].map(([cohort, entry]) => ({ cohort, from: entry.from, to: entry.to, ...cohortFigures(sum(entry.rows)) })),
    by,
  };
}

function sum(rows: CohortRow[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const row of rows) for (const [name, value] of Object.entries(row.counters)) sums.set(name, (sums.get(name) ?? 0) + value);
  return sums;
}

export function cohortFigures(sums: Map<string, number>): CohortFigures {
  const count = (name: string) => sums.get(name) ?? 0;
  const stages = COHORT_STAGES.map((stage, i): CohortStageFigure => {
    const previous = i > 0 ? COHORT_STAGES[i - 1] : undefined;
    return { stage, count: count(stage), conversionFromPrevious: previous ? rate(count(stage), count(previous)) : null };
  });
  const medians = {} as Record<CohortDuration, number | null>;
  const samples = {} as Record<CohortDuration, number>;
  for (const duration of COHORT_DURATIONS) {
    const histogram = emptyHistogram();
    for (let bucket = 0; bucket < HISTOGRAM_BUCKETS; bucket++) histogram[bucket] = count(`h:${duration}:${bucket}`);
    const median = medianHours(histogram);
    medians[duration] = median === undefined ? null : Math.round(median * 10) / 10;
    samples[duration] = histogram.reduce((a, b) => a + b, 0);
  }
  return {
    stages,
    outcomes: {
      won: count(cohortCounter.outcome("won")),
      lost: count(cohortCounter.outcome("lost")),
      disqualified: count(cohortCounter.outcome("disqualified")),
      notNow: count(cohortCounter.outcome("not-now")),
    },
    medianHours: medians,
    durationSamples: samples,
  };
}
