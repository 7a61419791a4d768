/**
 * Where a lead's first submission lives: its own activity item, which the lead item points at.
 */
import type { Activity } from "@leadloop/core";

type Item = Record<string, unknown>;

export const FORM_SUBMITTED = "form.submitted";

/**
 * The lead item's pointer to the submission that created it: that activity is written before the
 * lead, so a create that failed half-way leaves at most an activity no lead points at (a stray),
 * which readers skip (isStray), never a lead without its first submission and consent record.
 * It holds the id's random tail only (firstPointer): the id's time is the lead's creation.
 */
export const FIRST = "first";
/** An import row's key, when the submission that created the lead had one (a repeat adds nothing). */
export const FIRST_KEY = "firstKey";
/** Where leads stored before the split kept their first submission: still read, never written. */
export const LEGACY_FIRST_SUBMISSION = "firstSubmission";

/** Readers ask for a stray or two more than they show, so skipping them still fills a page. */
export const STRAY_ALLOWANCE = 2;

/**
 * A first submission no lead points at: written by a create whose lead put failed or lost to
 * another submission of the address (which then merged under its own id). Only a `created`
 * submission can be one, and only on a lead that points at another.
 */
function isStray(activity: Activity, first: unknown): boolean {
  return activity.type === FORM_SUBMITTED && activity.data.created === true && typeof first === "string" && !activity.id.endsWith(`-${first}`);
}

/** What the lead item stores of its first submission's id (`<time>-<random>`): the random tail. */
export function firstPointer(activityId: string): string {
  return activityId.slice(activityId.lastIndexOf("-") + 1);
}

/**
 * The lead's activities, newest first, as readers see them: strays dropped, and an older lead's
 * inline first submission placed among them by its id.
 */
export function withFirstSubmission(activities: Activity[], leadItem: Item, leadId: string): Activity[] {
  const kept = activities.filter((a) => !isStray(a, leadItem[FIRST]));
  const legacy = leadItem[LEGACY_FIRST_SUBMISSION] as Item | undefined;
  if (!legacy) return kept;
  return [...kept, toActivity({ ...legacy, leadId })].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

export function toActivity(item: Item): Activity {
  return {
    leadId: String(item.leadId),
    id: String(item.id),
    type: String(item.type),
    at: String(item.at),
    data: (item.data ?? {}) as Activity["data"],
  };
}
