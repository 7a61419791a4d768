/**
 * A lead's report state as the store keeps it: the state is written with every event the report
 * counts, and a transactional write is billed 2 WRU per started KB, so what the rest of the state
 * already says is left out. The cohort's capture day and time and its segment, form and source are
 * the state's own; its first engagement, MQL and claim are the state's while the lead is in its
 * first cycle; the lead id is the item's key. Reading fills them back in, and a state stored whole
 * (before this) reads as it is.
 */
import type { CohortDimension, CohortState } from "./cohort";
import { utcDay } from "./report-aggregates";
import type { LeadReportState } from "./report-store";

/** The cohort dimensions that are the state's own (`dims`), never changed after capture. */
const OWN_DIMS = ["segment", "formId", "source"] as const satisfies readonly CohortDimension[];
/** Cohort stage times that equal a state field while the lead is in its first cycle. */
const SHARED_TIMES = [
  ["engagedAt", "engagedAt"],
  ["mqlAt", "qualifiedAt"],
  ["claimedAt", "claimedAt"],
] as const satisfies readonly [keyof CohortState, keyof LeadReportState][];

export type StoredCohort = Omit<CohortState, "day" | "capturedAt" | "dims"> & { day?: string; capturedAt?: string; dims: Partial<CohortState["dims"]> };
export type StoredReportState = Omit<LeadReportState, "leadId" | "cohort"> & { leadId?: string; cohort?: StoredCohort };

/** The state without what can be derived from the rest of it. */
export function storedReportState(state: LeadReportState): StoredReportState {
  const { leadId: _leadId, cohort, ...rest } = state;
  if (!cohort) return rest;
  const { day, capturedAt, dims, ...times } = cohort;
  const stored: StoredCohort = { ...times, dims: { ...dims } };
  // Kept whenever it is not what reading would derive, so a state that disagrees survives as it is.
  if (day !== utcDay(state.capturedAt)) stored.day = day;
  if (capturedAt !== state.capturedAt) stored.capturedAt = capturedAt;
  for (const dim of OWN_DIMS) if (dims[dim] === state.dims[dim]) delete stored.dims[dim];
  for (const [own, shared] of SHARED_TIMES) if (stored[own] !== undefined && stored[own] === state[shared]) delete stored[own];
  return { ...rest, cohort: stored };
}

/** The state a stored one stands for: what was left out, derived again. */
export function reportStateFromStored(leadId: string, stored: StoredReportState): LeadReportState {
  const { cohort, ...rest } = stored;
  const state: LeadReportState = { ...rest, leadId };
  if (!cohort) return state;
  const full: CohortState = {
    ...cohort,
    day: cohort.day ?? utcDay(stored.capturedAt),
    capturedAt: cohort.capturedAt ?? stored.capturedAt,
    dims: { ...Object.fromEntries(OWN_DIMS.map((dim) => [dim, stored.dims[dim]])), ...cohort.dims } as CohortState["dims"],
  };
  for (const [own, shared] of SHARED_TIMES) {
    const value = stored[shared];
    if (full[own] === undefined && value !== undefined) full[own] = value;
  }
  return { ...state, cohort: full };
}
