/**
 * How a stored lead and its stored activities become a score: which activities count, how a
 * recycled lead's old engagement is treated, and how a stored score stands later (decay is
 * computed at read). Whether a score may qualify the lead is the lifecycle's call. Pure.
 */
import { ACTIVITY_TYPES as KNOWN_ACTIVITY_TYPES } from "../activity-types";
import type { ActivityType, LeadloopConfig } from "../config/schema";
import type { Lead, LeadScore } from "../lead";
import type { Activity } from "../ports";
import { decayedAsOf, type ScoredActivity, type ScoreReason, scoreLead } from "../scoring";

/**
 * Newest behaviour activities read to score a lead. Caps make old repeats worthless and decay
 * only looks at the newest, so beyond this many a lead's score no longer depends on the rest.
 */
export const SCORING_WINDOW = 500;

/** Reasons `lead.qualified` carries: the ones that moved the score most. */
export const QUALIFIED_REASONS = 5;

const ACTIVITY_TYPES: ReadonlySet<string> = new Set(KNOWN_ACTIVITY_TYPES);

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

/** The activity the recycler leaves on the timeline; scoring reads it back as the recycle instant. */
export const RECYCLED_ACTIVITY = "lead.recycled";

/** Activity types read back to score a lead: the scored ones, and the recycles that cut them. */
export function scoringReadTypes(config: Pick<LeadloopConfig, "scoring">): string[] {
  return [...scoredTypes(config), RECYCLED_ACTIVITY];
}

const KEEP: Record<LeadloopConfig["scoring"]["recycle"]["engagement"], number> = { reset: 0, halve: 0.5, keep: 1 };

export interface LeadScoring {
  score: LeadScore;
  /** Points earned by what the lead did after its latest recycle (everything, if never recycled). */
  earnedSinceRecycle: number;
}

/**
 * Scores a lead as of `now`, and says what the lifecycle's qualification decision needs. Once a
 * lead was recycled, its engagement from before the recycle is reset, halved or kept as
 * scoring.yaml's `recycle.engagement` says, for good (whatever stage it reaches afterwards), and
 * only what it did after the recycle counts as new engagement.
 */
export function scoreStoredLead(
  lead: Pick<Lead, "email" | "profile" | "segment" | "stage" | "qualifiedAt">,
  activities: readonly Activity[],
  config: Pick<LeadloopConfig, "scoring" | "segments">,
  now: Date,
): LeadScoring {
  const scoring = config.scoring;
  const nowIso = now.toISOString();
  const recycles = activities.filter((a) => a.type === RECYCLED_ACTIVITY && a.at <= nowIso).map((a) => a.at).sort();
  // A lead recycled before the recycle left an activity to read: its qualification is the cut.
  const cut = recycles.at(-1) ?? (lead.stage === "recycled" ? lead.qualifiedAt : undefined);
  const score = scoreLead(
    {
      profile: { ...lead.profile, email: lead.email },
      segment: lead.segment,
      now,
      freeMailDomains: config.segments.freeMailDomains,
      activities: scoredActivities(activities),
      ...(cut !== undefined ? { reset: { at: cut, keep: KEEP[scoring.recycle.engagement] } } : {}),
    },
    scoring,
  );
  return {
    score: {
      fit: score.fit,
      engagement: score.engagement,
      total: score.total,
      threshold: score.threshold,
      reasons: score.reasons,
      scoredAt: nowIso,
      ...(score.decay ? { decay: score.decay } : {}),
    },
    earnedSinceRecycle: score.earnedSinceReset,
  };
}

/** The lead's score as of `now` (scoreStoredLead without the qualification evidence). */
export function computeLeadScore(
  lead: Lead,
  activities: readonly Activity[],
  config: Pick<LeadloopConfig, "scoring" | "segments">,
  now: Date,
): LeadScore {
  return scoreStoredLead(lead, activities, config, now).score;
}

/**
 * A stored score as it stands at `now`: decay is computed at read, so every place that shows or
 * compares a score (lead view, queue, qualification) calls this rather than reading the stored
 * figures, which are as of the lead's last scoring.
 */
export function currentScore(score: LeadScore, config: Pick<LeadloopConfig, "scoring">, now: Date): LeadScore {
  return decayedAsOf(score, now, config.scoring.decay);
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
