/**
 * The cohort funnel's write side. A lead belongs to the cohort of the UTC day it was captured and
 * adds to that cohort's counters a contribution that is a pure function of how far it got: one at
 * every stage up to the furthest it reached, so a stage never counts more leads than the stage
 * before it (monotonic by construction), whatever order its events arrive in. When a lead moves on
 * (or is assigned a team or a rep, which are dimensions too), the report subtracts its old
 * contribution and adds the new one, so each lead sits in exactly one cohort row at a time.
 */
import { bucketOf } from "./stage-histogram";

/** Cohort stages in funnel order; `closed` splits into the outcomes. */
export const COHORT_STAGES = ["captured", "engaged", "mql", "claimed", "closed", "won"] as const;
export type CohortStage = (typeof COHORT_STAGES)[number];

/** Time in each stage, from entering it to entering the next. */
export const COHORT_DURATIONS = ["capturedToEngaged", "engagedToMql", "mqlToClaimed", "claimedToClosed"] as const;
export type CohortDuration = (typeof COHORT_DURATIONS)[number];

/** The dimensions a cohort row is kept by; team and rep are "none" until sales has the lead. */
export const COHORT_DIMENSIONS = ["segment", "formId", "source", "medium", "campaign", "team", "rep"] as const;
export type CohortDimension = (typeof COHORT_DIMENSIONS)[number];
export type CohortDims = Record<CohortDimension, string>;

/** A dimension's value before it is known (no UTM tag, not yet assigned). */
export const NONE = "none";

export type CohortOutcome = "won" | "lost" | "disqualified" | "not-now";

/** How far a lead got in its cohort: the first time it reached each stage, and its latest outcome. */
export interface CohortState {
  day: string;
  dims: CohortDims;
  capturedAt: string;
  engagedAt?: string;
  mqlAt?: string;
  claimedAt?: string;
  closedAt?: string;
  outcome?: CohortOutcome;
}

export const cohortCounter = {
  outcome: (outcome: CohortOutcome): string => `o:${outcome}`,
  duration: (duration: CohortDuration, hours: number): string => `h:${duration}:${bucketOf(hours)}`,
};

/** Lower-cased, trimmed and bounded; NONE when absent. */
export function dimValue(value: unknown): string {
  if (typeof value !== "string") return NONE;
  const clean = value.trim().toLowerCase().slice(0, 100);
  return clean === "" ? NONE : clean;
}

const hours = (from: string | undefined, to: string | undefined): number | undefined => {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.max(0, ms / 3_600_000) : undefined;
};

/**
 * The counters one lead adds to its cohort row. A later stage implies the earlier ones: a lead
 * qualified on fit alone went through engagement in no time (its engaged→MQL duration is zero).
 */
export function cohortContribution(state: CohortState): Record<string, number> {
  const reached: (string | undefined)[] = [state.capturedAt, state.engagedAt, state.mqlAt, state.claimedAt, state.closedAt];
  let furthest = 0;
  reached.forEach((at, i) => {
    if (at) furthest = i;
  });
  if (state.outcome) furthest = Math.max(furthest, 4);
  const out: Record<string, number> = {};
  const times: string[] = [];
  let previous = state.capturedAt;
  for (let i = 0; i <= furthest; i++) {
    const stage = COHORT_STAGES[i] as CohortStage;
    out[stage] = 1;
    // A stage reached without a time of its own (implied by a later one) was passed through at once.
    const at = reached[i] ?? firstDefined(reached.slice(i + 1)) ?? previous;
    times.push(at);
    previous = at;
  }
  for (let i = 1; i < times.length; i++) {
    const duration = COHORT_DURATIONS[i - 1] as CohortDuration;
    const h = hours(times[i - 1], times[i]);
    if (h !== undefined) out[cohortCounter.duration(duration, h)] = 1;
  }
  if (state.outcome) {
    out[cohortCounter.outcome(state.outcome)] = 1;
    if (state.outcome === "won") out.won = 1;
  }
  return out;
}

const firstDefined = (values: (string | undefined)[]) => values.find((v) => v !== undefined);

export interface CohortMove {
  day: string;
  dims: CohortDims;
  add: Record<string, number>;
}

const sameDims = (a: CohortDims, b: CohortDims) => COHORT_DIMENSIONS.every((d) => a[d] === b[d]);

/** The increments that take a lead's cohort row from `before` (undefined: never counted) to `after`. */
export function cohortMoves(before: CohortState | undefined, after: CohortState): CohortMove[] {
  const next = cohortContribution(after);
  if (!before) return [{ day: after.day, dims: after.dims, add: next }];
  const prev = cohortContribution(before);
  if (before.day === after.day && sameDims(before.dims, after.dims)) {
    const add: Record<string, number> = {};
    for (const name of new Set([...Object.keys(prev), ...Object.keys(next)])) {
      const delta = (next[name] ?? 0) - (prev[name] ?? 0);
      if (delta !== 0) add[name] = delta;
    }
    return Object.keys(add).length > 0 ? [{ day: after.day, dims: after.dims, add }] : [];
  }
  const negated = Object.fromEntries(Object.entries(prev).map(([k, v]) => [k, -v]));
  return [
    { day: before.day, dims: before.dims, add: negated },
    { day: after.day, dims: after.dims, add: next },
  ];
}
