/**
 * What a not-now lead's engagement score becomes when it comes back to nurture
 * (scoring.yaml `recycle.engagement`): `reset` starts it from zero, `halve` keeps half (rounded
 * towards zero), `keep` leaves it. Fit is who the lead is, so it never changes here.
 *
 * This moves the stored score at once; later rescoring (engagement/lead-scoring.ts) reaches the
 * same figure from the activities, cutting at the lead's last `qualifiedAt` while it is `recycled`.
 * That is why the recycle keeps `qualifiedAt`: it is the cut, and a recycled lead may qualify
 * again whatever it says.
 */
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
