/**
 * The port the feedback use cases need: a closure recorded on its lead exactly once, and a sparse,
 * sharded schedule of not-now leads waiting for their recycle date. Every change is a conditional
 * write, so redelivered events and overlapping recycle runs never apply anything twice.
 */
import type { ScoringFile } from "../config/schema";
import type { LeadScore, Stage } from "../lead";
import type { NewActivity } from "../ports";
import type { ClosedOutcome } from "./closed-event";

/** The rep's outcome as kept on the lead (attribute `outcome`): what reports and re-closures read. */
export interface RecordedOutcome {
  outcome: ClosedOutcome;
  /** The reason code from teams.yaml, and its label when the code is known there. */
  reason?: string;
  reasonLabel?: string;
  rep: string;
  teamId: string;
  closedAt: string;
  amount?: number;
  currency?: string;
  /** For not-now: the instant the lead goes back to nurture. */
  recycleAt?: string;
}

export type RecordOutcomeResult =
  /** Written now. */
  | "recorded"
  /** This closure (same `closedAt`) was recorded before: a redelivered event. */
  | "duplicate"
  /** A later closure is already recorded; this older one changes nothing. */
  | "superseded"
  | "missing";

export interface OutcomeRecord {
  outcome: RecordedOutcome;
  /** Stage and segment the lead moves to; omitted ones stay as they are. */
  stage?: Stage;
  segment?: string;
  activity: NewActivity;
}

/** A recycle schedule entry: the due-index entry of a not-now lead. */
export interface RecycleRef {
  leadId: string;
  recycleAt: string;
  /** The closure that scheduled it: the recycle applies only while it is still the lead's latest. */
  closedAt: string;
  /** `recycled`: the lead was moved but `lead.recycled` may not have reached the bus yet. */
  state: "scheduled" | "recycled";
  /** Set once recycled: the segment the lead moved to. */
  segment?: string;
}

export type EngagementReset = ScoringFile["recycle"]["engagement"];

export interface RecycleInput {
  /** The stage the lifecycle moves a parked lead to on its recycle date. */
  stage: Stage;
  segment: string;
  at: string;
  engagement: EngagementReset;
  /** The stages a lead may be recycled from (the lifecycle's). */
  fromStages: readonly Stage[];
  /** The stored score after the recycle, from the one read in the same attempt. */
  rescore: (score: LeadScore) => LeadScore;
}

export type RecycleResult =
  | { kind: "recycled"; engagementBefore?: number; engagementAfter?: number }
  /** The lead was closed again (or erased) since: the entry was dropped without recycling. */
  | { kind: "stale" }
  /** Another run got there first. */
  | { kind: "taken" };

export interface FeedbackStore {
  /** Number of recycle-schedule shards; the recycle job queries each. */
  readonly recycleShards: number;
  /**
   * Records a closure: the lead's stage, segment and `outcome`, the activity, and the recycle
   * schedule (put for not-now, removed for any other outcome), all or nothing. Only a closure
   * later than the one recorded applies.
   */
  recordOutcome(leadId: string, record: OutcomeRecord): Promise<RecordOutcomeResult>;
  /** Schedule entries of one shard due at or before `now`, oldest first. */
  listRecycleDue(shard: number, now: string, limit: number): Promise<RecycleRef[]>;
  /**
   * Moves a scheduled lead back to nurture, all or nothing: stage `recycled`, the segment, the
   * stored score as `rescore` makes it (recycledScore), a `lead.recycled` activity (scoring cuts
   * there), and the entry marked recycled. Conditional on the entry still being scheduled, the
   * lead's latest closure still being `ref.closedAt`, and the lead still in one of `fromStages`
   * (never out of a sales queue); a lead in another stage is `stale`.
   */
  recycleLead(ref: RecycleRef, input: RecycleInput): Promise<RecycleResult>;
  /** Takes the entry out of the schedule once `lead.recycled` reached the bus. */
  finishRecycle(ref: RecycleRef): Promise<void>;
}
