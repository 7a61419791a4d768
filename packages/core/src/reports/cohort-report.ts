/**
 * The cohort funnel for a period: leads captured in each week or month of it, followed through
 * engaged, MQL, claimed and closed (won, lost, disqualified, not now), with each stage's conversion
 * from the one before, the median time in each stage, the same figures for the period before, and
 * a breakdown by every dimension. It reads cohort rows (capture days × shards × the combinations of
 * dimensions in use), never a lead: its cost grows with the combinations leads fill, not with them.
 */
import * as z from "../zod-mini";
import { COHORT_DIMENSIONS, COHORT_DURATIONS, COHORT_STAGES, type CohortDimension, type CohortDuration, type CohortStage, cohortCounter } from "./cohort";
import { rate } from "./funnel-report";
import { daysBetween, IsoDay, LowerCaseFilter, parseReportQuery, reportQuery } from "./report-query";
import type { CohortRow } from "./report-aggregates";
import type { ReportStore } from "./report-store";
import { emptyHistogram, HISTOGRAM_BUCKETS, medianHours } from "./stage-histogram";


export const CohortQuery = reportQuery({
  from: IsoDay,
  to: IsoDay,
  grain: z._default(z.enum(["week", "month"], { message: "must be week or month" }), "week"),
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

async function readDays<T>(days: string[], read: (day: string) => Promise<T[]>): Promise<T[]> {
  const rows: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < days.length) {
      const day = days[next++];
      if (day) rows.push(...(await read(day)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(DAY_CONCURRENCY, days.length) }, worker));
  return rows;
}

/**
 * Every figure, a dimension's breakdown included, is summed from the capture days' cohort rows: each
 * row holds all seven dimensions, so a dimension's value totals are the sum of the rows carrying it,
 * and a filter keeps the rows that match. A lead sits in one row at a time (cohort.ts moves it out
 * of the old combination when its rep or team changes), so it counts once, under its latest values.
 * Tables written before this read also hold per-value rows (`COHORTV#` partitions); cohort rows were
 * always written beside them, in the same transactions, so reading cohort rows alone gives the same
 * figures for those days too, and the value rows are no longer read or written.
 */
export async function buildCohortReport(deps: CohortReportDeps, query: CohortQuery): Promise<CohortReport> {
  const days = daysBetween(query.from, query.to);
  const previousPeriod = { from: isoDay(dayAt(query.from) - days.length * DAY_MS), to: isoDay(dayAt(query.from) - DAY_MS) };
  const previousDays = daysBetween(previousPeriod.from, previousPeriod.to);
  const filters: Partial<Record<CohortDimension, string>> = {};
  for (const dim of COHORT_DIMENSIONS) {
    const value = query[dim];
    if (value) filters[dim] = value;
  }
  const matches = (row: CohortRow) => COHORT_DIMENSIONS.every((dim) => !filters[dim] || row.dims[dim] === filters[dim]);
  // Each day is summed as it is read, so the rows of a long period are never all held at once.
  const sumsOf = async (day: string): Promise<DaySums[]> => [sumCohortRows(day, await deps.reports.readCohortDay(day), matches)];
  const [current, before] = await Promise.all([readDays(days, sumsOf), readDays(previousDays, sumsOf)]);
  return assemble(current, before, query, filters);
}

/** One capture day's counters: in all, and per value of each dimension. */
interface DaySums {
  day: string;
  total: Map<string, number>;
  by: Record<CohortDimension, Map<string, Map<string, number>>>;
}

const emptyBy = () => Object.fromEntries(COHORT_DIMENSIONS.map((dim) => [dim, new Map()])) as DaySums["by"];

function addInto(target: Map<string, number>, counters: Record<string, number> | Map<string, number>) {
  const entries = counters instanceof Map ? counters.entries() : Object.entries(counters);
  for (const [name, value] of entries) target.set(name, (target.get(name) ?? 0) + value);
}

function sumCohortRows(day: string, rows: CohortRow[], matches: (row: CohortRow) => boolean): DaySums {
  const sums: DaySums = { day, total: new Map(), by: emptyBy() };
  for (const row of rows) {
    if (!matches(row)) continue;
    addInto(sums.total, row.counters);
    for (const dim of COHORT_DIMENSIONS) {
      const value = sums.by[dim].get(row.dims[dim]) ?? new Map<string, number>();
      addInto(value, row.counters);
      sums.by[dim].set(row.dims[dim], value);
    }
  }
  return sums;
}

function assemble(current: DaySums[], before: DaySums[], query: CohortQuery, filters: Partial<Record<CohortDimension, string>>): CohortReport {
  const days = daysBetween(query.from, query.to);
  const previousPeriod = { from: isoDay(dayAt(query.from) - days.length * DAY_MS), to: isoDay(dayAt(query.from) - DAY_MS) };
  const inPeriod = new Set(days);
  const now = current.filter((d) => inPeriod.has(d.day));
  const then = before.filter((d) => d.day >= previousPeriod.from && d.day <= previousPeriod.to);
  const total = (list: DaySums[]) => {
    const sums = new Map<string, number>();
    for (const d of list) addInto(sums, d.total);
    return sums;
  };
  const totals = cohortFigures(total(now));
  const previous = cohortFigures(total(then));
  const cohorts = new Map<string, { from: string; to: string; days: DaySums[] }>();
  for (const day of days) {
    const key = cohortOf(day, query.grain);
    const entry = cohorts.get(key) ?? { from: day, to: day, days: [] };
    entry.to = day;
    cohorts.set(key, entry);
  }
  for (const d of now) cohorts.get(cohortOf(d.day, query.grain))?.days.push(d);

  const by = {} as CohortReport["by"];
  for (const dim of COHORT_DIMENSIONS) {
    const groups = new Map<string, Map<string, number>>();
    for (const d of now) {
      for (const [value, counters] of d.by[dim]) {
        const sums = groups.get(value) ?? new Map<string, number>();
        addInto(sums, counters);
        groups.set(value, sums);
      }
    }
    by[dim] = [...groups]
      .map(([value, sums]) => ({ value, ...cohortFigures(sums) }))
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
    cohorts: [...cohorts].map(([cohort, entry]) => ({ cohort, from: entry.from, to: entry.to, ...cohortFigures(total(entry.days)) })),
    by,
  };
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
