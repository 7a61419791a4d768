/**
 * What a not-now lead's engagement score becomes when it comes back to nurture
 * (scoring.yaml `recycle.engagement`): `reset` starts it from zero, `halve` keeps half (rounded
 * towards zero), `keep` leaves it. Fit is who the lead is, so it never changes here.
 *
 * This moves the stored score at once; later rescoring (engagement/lead-scoring.ts) reaches the
 * same figure from the activities, cutting at the `lead.recycled` activity the recycle leaves.
 */
import type { LeadScore } from "../lead";
import type { ScoringFile } from "../config/schema";
import { decayedAsOf } from "../scoring";
import type { EngagementReset } from "./feedback-store";

export function recycledEngagement(engagement: number, mode: EngagementReset): number {
  switch (mode) {
    case "reset":
      return 0;
    case "halve":
      return Math.trunc(engagement / 2);
    case "keep":
      return engagement;
  }
}

/**
 * The stored score of a lead recycled at `at`: brought to that instant by decay first, then its
 * engagement reset as configured, with nothing left for decay to carry (no old points come back).
 */
export function recycledScore(score: LeadScore, mode: EngagementReset, at: string, decay: ScoringFile["decay"]): LeadScore {
  const current = decayedAsOf(score, new Date(at), decay);
  const engagement = recycledEngagement(current.engagement, mode);
  const reasons = current.reasons.filter((r) => r.category === "fit");
  if (engagement !== 0) reasons.push({ rule: "recycled", category: "engagement", points: engagement });
  const { decay: basis, ...rest } = current;
  return {
    ...rest,
    engagement,
    total: current.fit + engagement,
    reasons,
    scoredAt: at,
    ...(basis && engagement !== 0 ? { decay: { since: basis.since, periods: basis.periods, engagement: basis.engagement * (engagement / (current.engagement || 1)) } } : {}),
  };
}
