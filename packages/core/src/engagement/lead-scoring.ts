/**
 * How a stored lead and its stored activities become a score: which activities count, how a
 * recycled lead's old engagement is treated, and when a score may qualify the lead. Pure.
 */
import { ActivityType, type LeadloopConfig } from "../config/schema";
import type { Lead, LeadScore } from "../lead";
import type { Activity } from "../ports";
import { type ScoredActivity, type ScoreReason, scoreLead } from "../scoring";

/**
 * Newest behaviour activities read to score a lead. Caps make old repeats worthless and decay
 * only looks at the newest, so beyond this many a lead's score no longer depends on the rest.
 */
export const SCORING_WINDOW = 500;

/** Reasons `lead.qualified` carries: the ones that moved the score most. */
export const QUALIFIED_REASONS = 5;

const ACTIVITY_TYPES: ReadonlySet<string> = new Set(ActivityType.options);

/** Activity types some behaviour rule scores: only these are read back to score a lead. */
export function scoredTypes(config: Pick<LeadloopConfig, "scoring">): ActivityType[] {
  return [...new Set(config.scoring.behaviour.map((rule) => rule.on))];
}

/** Stored activities as the scorer wants them; anything it does not know is left out. */
export function scoredActivities(activities: readonly Activity[]): ScoredActivity[] {
  const out: ScoredActivity[] = [];
  for (const activity of activities) {
    if (!ACTIVITY_TYPES.has(activity.type)) continue;
    // Clicking "unsubscribe" is not interest.
    if (activity.data.unsubscribeLink === true) continue;
    const url = typeof activity.data.url === "string" ? activity.data.url : undefined;
    const formId = typeof activity.data.formId === "string" ? activity.data.formId : undefined;
    out.push({ type: activity.type as ActivityType, at: activity.at, ...(url ? { url } : {}), ...(formId ? { formId } : {}) });
  }
  return out;
}

/**
 * Scores a lead as of `now`. A recycled lead comes back with its fit and, as scoring.yaml's
 * `recycle.engagement` says, its engagement from before it last qualified reset, halved or kept.
 */
export function computeLeadScore(
  lead: Lead,
  activities: readonly Activity[],
  config: Pick<LeadloopConfig, "scoring" | "segments">,
  now: Date,
): LeadScore {
  const scoring = config.scoring;
  const all = scoredActivities(activities);
  const input = {
    profile: { ...lead.profile, email: lead.email },
    segment: lead.segment,
    now,
    freeMailDomains: config.segments.freeMailDomains,
  };
  const mode = scoring.recycle.engagement;
  const cut = lead.stage === "recycled" && mode !== "keep" ? lead.qualifiedAt : undefined;
  const recent = cut === undefined ? all : all.filter((a) => a.at > cut);
  const score = scoreLead({ ...input, activities: recent }, scoring);
  const reasons: ScoreReason[] = [...score.reasons];
  let engagement = score.engagement;
  if (cut !== undefined && mode === "halve") {
    const before = scoreLead({ ...input, activities: all.filter((a) => a.at <= cut) }, scoring).engagement;
    const kept = Math.trunc(before / 2);
    if (kept !== 0) {
      reasons.push({ rule: "recycled", category: "engagement", points: kept });
      engagement += kept;
    }
  }
  reasons.sort((a, b) => Math.abs(b.points) - Math.abs(a.points));
  return {
    fit: score.fit,
    engagement,
    total: score.fit + engagement,
    threshold: score.threshold,
    reasons,
    scoredAt: now.toISOString(),
  };
}

/** A lead qualifies once: from stage `lead`, or again after sales recycled it. */
export function mayQualify(lead: Pick<Lead, "stage" | "qualifiedAt">): boolean {
  return (lead.stage === "lead" && lead.qualifiedAt === undefined) || lead.stage === "recycled";
}

export function isQualifying(score: Pick<LeadScore, "total" | "threshold">): boolean {
  return score.total >= score.threshold;
}

/** True when a new score says something the stored one does not (its time aside). */
export function scoreDiffers(previous: LeadScore | undefined, next: LeadScore): boolean {
  if (!previous) return true;
  const { scoredAt: _a, ...a } = previous;
  const { scoredAt: _b, ...b } = next;
  return JSON.stringify(a) !== JSON.stringify(b);
}

/** The reasons that moved the score most, for `lead.qualified` and the rep's notification. */
export function topReasons(reasons: readonly ScoreReason[], count = QUALIFIED_REASONS) {
  return [...reasons]
    .sort((a, b) => Math.abs(b.points) - Math.abs(a.points))
    .slice(0, count)
    .map(({ rule, category, points }) => ({ rule, category, points }));
}
