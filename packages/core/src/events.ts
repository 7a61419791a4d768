/**
 * The events leadloop puts on its bus, declared once: one zod schema per detail-type, shared by
 * the producers (who build events with `leadloopEvent`, so a payload that drifts from its schema
 * fails to compile) and the consumers (who parse the detail with `parseEventDetail` at their
 * edge, so a malformed event is refused once, loudly, instead of half-applied). Details carry ids
 * and routing facts, never a lead's personal data.
 */
import * as z from "./zod-mini";
import type { BusEvent } from "./ports";
import { STAGES } from "./lifecycle";

const Id = z.string().check(z.minLength(1));
const Instant = z.iso.datetime({ offset: true });

export const CapturedEventDetail = z.object({
  leadId: Id,
  segment: z.string(),
  stage: z.string(),
  formId: z.string(),
  /** When the submission was made: identifies it, so its follow-up email is sent once. */
  submittedAt: z.optional(z.string()),
  source: z._default(z.object({ utm_source: z.optional(z.string()), utm_medium: z.optional(z.string()), utm_campaign: z.optional(z.string()) }), {}),
});
export type CapturedEventDetail = z.output<typeof CapturedEventDetail>;

export const UpdatedEventDetail = z.object({
  leadId: Id,
  segment: z.string(),
  stage: z.string(),
  reason: z.optional(z.string()),
  closedAt: z.optional(z.string()),
});
export type UpdatedEventDetail = z.output<typeof UpdatedEventDetail>;

export const ScoredEventDetail = z.looseObject({
  leadId: Id,
  segment: z.string(),
  score: z.number(),
  fit: z.number(),
  engagement: z.number(),
  threshold: z.number(),
  previousScore: z.number(),
  /** The site activity (the site script's event) that moved the score; absent when something else did. */
  activity: z.optional(z.object({ type: z.string(), at: z.string() })),
});
export type ScoredEventDetail = z.output<typeof ScoredEventDetail>;

/** A scoring reason as `lead.qualified` carries it (scoring.ts's ScoreReason). */
const QualifiedReason = z.looseObject({ rule: z.string(), category: z.enum(["fit", "engagement"]), points: z.number(), count: z.optional(z.number()) });

export const QualifiedEventDetail = z.object({
  leadId: Id,
  segment: z.string().check(z.minLength(1)),
  score: z.number(),
  threshold: z.number(),
  qualifiedAt: z.string().check(z.minLength(1)),
  country: z.optional(z.string()),
  reasons: z._default(z.array(QualifiedReason), []),
});
export type QualifiedEventDetail = z.output<typeof QualifiedEventDetail>;

export const AssignedEventDetail = z.object({
  leadId: Id,
  teamId: Id,
  rep: Id,
  queuedAt: z.string(),
  claimBy: z.string(),
});
export type AssignedEventDetail = z.output<typeof AssignedEventDetail>;

export const ClaimedEventDetail = z.object({
  leadId: Id,
  teamId: Id,
  rep: Id,
  claimedAt: z.string(),
});
export type ClaimedEventDetail = z.output<typeof ClaimedEventDetail>;

export const ClosedOutcome = z.enum(["won", "lost", "disqualified", "not-now"]);
export type ClosedOutcome = z.infer<typeof ClosedOutcome>;

export const ClosedEventDetail = z
  .object({
    leadId: Id,
    teamId: Id,
    rep: Id,
    outcome: ClosedOutcome,
    /** A reason code from teams.yaml (lostReasons / disqualifiedReasons). */
    reason: z.optional(z.string().check(z.minLength(1))),
    amount: z.optional(z.number().check(z.nonnegative())),
    currency: z.optional(z.string()),
    /** When a not-now lead comes back to nurture: a date (YYYY-MM-DD, start of day UTC) or an instant. */
    recycleOn: z.optional(z.union([z.iso.date(), Instant])),
    /** The rep's notes for the deal review: plain text, never a template. */
    notes: z.optional(z.object({ wentWell: z.optional(z.string().check(z.maxLength(2000))), toImprove: z.optional(z.string().check(z.maxLength(2000))) })),
    closedAt: Instant,
  })
  .check(
    z.refine((e) => e.outcome !== "not-now" || e.recycleOn !== undefined, {
      message: "a not-now outcome needs recycleOn",
      path: ["recycleOn"],
    }),
  );
export type ClosedEventDetail = z.output<typeof ClosedEventDetail>;

export const RecycledEventDetail = z.object({
  leadId: Id,
  segment: z.string(),
  stage: z.enum(STAGES),
  recycleOn: z.string(),
  closedAt: z.string(),
  engagement: z.optional(z.object({ mode: z.string(), before: z.optional(z.number()), after: z.optional(z.number()) })),
});
export type RecycledEventDetail = z.output<typeof RecycledEventDetail>;

export const UnsubscribedEventDetail = z.object({ leadId: Id, segment: z.string() });
export type UnsubscribedEventDetail = z.output<typeof UnsubscribedEventDetail>;

export const EmailSentEventDetail = z.object({ leadId: Id, sequenceId: Id, stepId: Id, messageId: Id, variantId: z.optional(Id) });
export type EmailSentEventDetail = z.output<typeof EmailSentEventDetail>;

/** A purchase booked on a customer's points ledger, with the points it earned. */
export const PurchaseEventDetail = z.object({
  leadId: Id,
  purchaseId: z.string(),
  amount: z.number(),
  currency: z.string(),
  points: z.number(),
  purchasedAt: z.string(),
});
export type PurchaseEventDetail = z.output<typeof PurchaseEventDetail>;

export const TierChangedEventDetail = z.object({
  leadId: Id,
  from: z.nullable(z.string()),
  to: z.nullable(z.string()),
  balance: z.number(),
});
export type TierChangedEventDetail = z.output<typeof TierChangedEventDetail>;

/** Every detail-type and its schema. */
export const EventDetails = {
  "lead.captured": CapturedEventDetail,
  "lead.updated": UpdatedEventDetail,
  "lead.scored": ScoredEventDetail,
  "lead.qualified": QualifiedEventDetail,
  "lead.assigned": AssignedEventDetail,
  "lead.claimed": ClaimedEventDetail,
  "lead.closed": ClosedEventDetail,
  "lead.recycled": RecycledEventDetail,
  "lead.unsubscribed": UnsubscribedEventDetail,
  "email.sent": EmailSentEventDetail,
  "customer.purchase": PurchaseEventDetail,
  "customer.tier_changed": TierChangedEventDetail,
} as const;

export type EventType = keyof typeof EventDetails;
/** What a producer passes (defaults may be left out). */
export type EventDetailInput<T extends EventType> = z.input<(typeof EventDetails)[T]>;
/** What a consumer gets after parsing. */
export type EventDetail<T extends EventType> = z.output<(typeof EventDetails)[T]>;

const variant = <T extends EventType>(type: T) => z.object({ type: z.literal(type), detail: EventDetails[type] });

/** A leadloop event as the bus carries it, discriminated on its detail-type. */
export const LeadloopEvent = z.discriminatedUnion("type", [
  variant("lead.captured"),
  variant("lead.updated"),
  variant("lead.scored"),
  variant("lead.qualified"),
  variant("lead.assigned"),
  variant("lead.claimed"),
  variant("lead.closed"),
  variant("lead.recycled"),
  variant("lead.unsubscribed"),
  variant("email.sent"),
  variant("customer.purchase"),
  variant("customer.tier_changed"),
]);
export type LeadloopEvent = z.infer<typeof LeadloopEvent>;

export interface TypedBusEvent<T extends EventType> extends BusEvent {
  type: T;
  detail: EventDetailInput<T> & Record<string, unknown>;
}

/** Builds an event of the contract; the detail is checked against its schema at compile time. */
export function leadloopEvent<T extends EventType>(type: T, detail: EventDetailInput<T>, time?: string): TypedBusEvent<T> {
  return { type, detail: detail as EventDetailInput<T> & Record<string, unknown>, ...(time ? { time } : {}) };
}

/** Parses a delivered detail at a consumer's edge; throws a ZodError naming the bad field. */
export function parseEventDetail<T extends EventType>(type: T, detail: unknown): EventDetail<T> {
  return EventDetails[type].parse(detail) as EventDetail<T>;
}
