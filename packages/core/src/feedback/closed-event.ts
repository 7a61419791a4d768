/**
 * `lead.closed` as the feedback handler reads it: the rep's outcome of a hand-off. Parsed at the
 * handler's edge, so a malformed event is refused once, loudly, instead of half-applied.
 */
import { z } from "zod";

export const ClosedOutcome = z.enum(["won", "lost", "disqualified", "not-now"]);
export type ClosedOutcome = z.infer<typeof ClosedOutcome>;

const Instant = z.iso.datetime({ offset: true });

export const ClosedEvent = z
  .object({
    leadId: z.string().min(1),
    teamId: z.string().min(1),
    rep: z.string().min(1),
    outcome: ClosedOutcome,
    /** A reason code from teams.yaml (lostReasons / disqualifiedReasons). */
    reason: z.string().min(1).optional(),
    amount: z.number().nonnegative().optional(),
    currency: z.string().optional(),
    /** When a not-now lead comes back to nurture: a date (YYYY-MM-DD, start of day UTC) or an instant. */
    recycleOn: z.union([z.iso.date(), Instant]).optional(),
    closedAt: Instant,
  })
  .refine((e) => e.outcome !== "not-now" || e.recycleOn !== undefined, {
    message: "a not-now outcome needs recycleOn",
    path: ["recycleOn"],
  });
export type ClosedEvent = z.infer<typeof ClosedEvent>;

/** The instant a recycle date means: a plain date is the start of that day in UTC. */
export function recycleInstant(recycleOn: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(recycleOn) ? `${recycleOn}T00:00:00.000Z` : new Date(recycleOn).toISOString();
}
