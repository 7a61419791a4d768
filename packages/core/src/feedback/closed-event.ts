/**
 * `lead.closed` as the feedback handler reads it: the rep's outcome of a hand-off. Parsed at the
 * handler's edge, so a malformed event is refused once, loudly, instead of half-applied.
 */
import { ClosedEventDetail } from "../events";

export { ClosedOutcome } from "../events";

/** The schema of `lead.closed` (events.ts), under the name the feedback handler reads it by. */
export const ClosedEvent = ClosedEventDetail;
export type ClosedEvent = ClosedEventDetail;

/** The instant a recycle date means: a plain date is the start of that day in UTC. */
export function recycleInstant(recycleOn: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(recycleOn) ? `${recycleOn}T00:00:00.000Z` : new Date(recycleOn).toISOString();
}
