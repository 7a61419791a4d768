/**
 * The hand-off's events on the bus. `lead.qualified` comes from scoring (published once per
 * qualification); the hand-off answers with `lead.assigned`, and the rep's actions publish
 * `lead.claimed` and `lead.closed`.
 */
import { z } from "zod";

/** A scoring reason as `lead.qualified` carries it (scoring.ts's ScoreReason). */
const QualifiedReason = z.looseObject({ rule: z.string(), category: z.enum(["fit", "engagement"]), points: z.number(), count: z.number().optional() });

export const QualifiedEventDetail = z.object({
  leadId: z.string().min(1),
  segment: z.string().min(1),
  score: z.number(),
  threshold: z.number(),
  qualifiedAt: z.string().min(1),
  country: z.string().optional(),
  reasons: z.array(QualifiedReason).default([]),
});
export type QualifiedEventDetail = z.infer<typeof QualifiedEventDetail>;

export interface AssignedEventDetail extends Record<string, unknown> {
  leadId: string;
  teamId: string;
  rep: string;
  queuedAt: string;
  claimBy: string;
}

export interface ClaimedEventDetail extends Record<string, unknown> {
  leadId: string;
  teamId: string;
  rep: string;
  claimedAt: string;
}

export const Outcome = z.enum(["won", "lost", "disqualified", "not-now"]);
export type Outcome = z.infer<typeof Outcome>;

export interface ClosedEventDetail extends Record<string, unknown> {
  leadId: string;
  teamId: string;
  rep: string;
  outcome: Outcome;
  reason?: string;
  amount?: number;
  currency?: string;
  recycleOn?: string;
  closedAt: string;
}
