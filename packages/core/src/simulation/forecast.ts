/**
 * What a simulation run predicts for a config: the figures a marketer weighs before shipping a
 * change (email volume, MQLs, hand-offs, rep load, unsubscribes) and what it would cost on AWS.
 */
import type { CostEstimate } from "./cost-model";
import type { SimulationOptions } from "./simulation-options";

export interface StepForecast {
  stepId: string;
  sent: number;
  /** Due but not sent because its condition did not hold. */
  skipped: number;
  opened: number;
  clicked: number;
  /** An A/B tested step: each variant's share of the sends, opens and clicks. */
  variants?: { variantId: string; sent: number; opened: number; clicked: number }[];
  /** The variant the step's winner rule kept, when it ended the test within the period. */
  abWinner?: string;
}

export interface SequenceForecast {
  sequenceId: string;
  name: string;
  segment: string;
  enrolled: number;
  sent: number;
  skipped: number;
  steps: StepForecast[];
}

export interface RepLoad {
  teamId: string;
  email: string;
  name: string;
  /** Leads this rep claimed in the period. */
  leads: number;
}

export interface Forecast {
  period: { start: string; end: string; days: number };
  options: SimulationOptions;
  leads: {
    captured: number;
    /** Double-opt-in sign-ups who confirmed. */
    confirmed: number;
    /** Double-opt-in sign-ups who never confirmed, so were never nurtured. */
    unconfirmed: number;
    bySegment: Record<string, number>;
    byPersona: Record<string, number>;
    byForm: Record<string, number>;
  };
  emails: {
    /** Emails to leads: nurture steps plus opt-in confirmations. */
    total: number;
    nurture: number;
    confirmations: number;
    /** Hand-off notifications to reps (not counted in `total` or per day). */
    repNotifications: number;
    perDay: { date: string; emails: number }[];
    averagePerDay: number;
    peakPerDay: number;
    peakDate: string;
    opened: number;
    clicked: number;
    bounced: number;
    bySequence: SequenceForecast[];
  };
  /** Leads that became marketing-qualified at least once. */
  mqls: { total: number; bySegment: Record<string, number> };
  handoffs: {
    total: number;
    bySegment: Record<string, number>;
    byTeam: Record<string, number>;
    /** MQLs no team works (segment or territory not covered). */
    unassigned: number;
    /** Hand-offs passed to another rep after a missed claim SLA. */
    reassigned: number;
    escalated: number;
  };
  sales: { claimed: number; won: number; lost: number; disqualified: number; notNow: number; recycled: number; purchases: number };
  repLoad: { reps: RepLoad[]; max: number; average: number };
  unsubscribes: { total: number; bySegment: Record<string, number> };
  cost: CostEstimate;
}
