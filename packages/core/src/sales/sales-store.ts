/**
 * The port the hand-off and the rep workflow need: per-team sales queues ordered by qualification
 * time, a per-team turn counter, a sparse index of claim deadlines and one of notifications still
 * owed. Every state change is a conditional write, so two reps, two hand-off deliveries or two SLA
 * checkers can never both win.
 */
import type { DealNotes } from "../feedback/deal-review";
import type { PendingEvent } from "../ports";
import type { ScoreReason } from "../scoring";
import type { Outcome } from "./sales-events";

/** Names one queue item: the team's queue, ordered by qualification time. */
export interface QueueRef {
  teamId: string;
  qualifiedAt: string;
  leadId: string;
}

export interface Qualification {
  segment: string;
  country?: string;
  score: number;
  threshold: number;
  reasons: ScoreReason[];
}

export interface QueueItem extends QueueRef, Qualification {
  /** The assigned rep's email, and their name as teams.yaml had it. */
  rep: string;
  repName: string;
  assignedAt: string;
  /** The claim window closes then; unclaimed items wait in the SLA index until it does. */
  claimBy: string;
  /** Claim windows missed so far (each moved the lead to the next rep). */
  misses: number;
  escalatedAt?: string;
  claimedBy?: string;
  claimedAt?: string;
  /** Notification progress for the current rep: each channel once, then `notifiedAt`. */
  emailedAt?: string;
  chattedAt?: string;
  notifiedAt?: string;
  notifyAttempts: number;
  /** While a notification is owed: when the retry job may next try it. */
  notifyAfter?: string;
  /**
   * While `lead.claimed` may not have reached the bus: when the claim-SLA check announces it. The
   * claimed item stays in the SLA index, due then, until the announcement clears it.
   */
  announceClaimAt?: string;
}

export interface Closure {
  outcome: Outcome;
  reason?: string;
  amount?: number;
  currency?: string;
  recycleOn?: string;
  /** The rep's notes for the deal review. */
  notes?: DealNotes;
  rep: string;
  closedAt: string;
}

/** A lead's latest hand-off: where its queue item is, what qualified it, and how it ended. */
export interface Handoff extends QueueRef, Qualification {
  /** The open queue item; absent once the outcome is recorded. */
  item?: QueueItem;
  closed?: Closure;
}

export type ClaimResult = { claimed: true; item: QueueItem; already: boolean } | { claimed: false; holder?: string; missing?: boolean };

export interface NotificationPatch {
  emailedAt?: string;
  chattedAt?: string;
  /** Set when every channel is done (or given up): the item leaves the retry index. */
  notifiedAt?: string;
  notifyAttempts?: number;
  notifyAfter?: string;
}

export interface SalesStore {
  readonly slaShards: number;
  readonly notifyShards: number;
  /** Atomically takes the team's next turn (1, 2, 3…): each concurrent hand-off gets its own. */
  nextTurn(teamId: string): Promise<number>;
  getQueueItem(ref: QueueRef): Promise<QueueItem | undefined>;
  /**
   * Writes the queue item once, then points the lead at it; false when the item already exists,
   * or when the lead already points at a newer qualification (the item is then taken back).
   * Reps reach a queue item through the pointer, so nobody sees the item before the pointer.
   */
  createHandoff(item: QueueItem): Promise<boolean>;
  /**
   * Points the lead at an item `createHandoff` wrote, for a redelivery finishing a hand-off that
   * stopped between the two writes; leaves a pointer at the same or a newer qualification as it is.
   */
  pointToHandoff(item: QueueItem): Promise<void>;
  getHandoff(leadId: string): Promise<Handoff | undefined>;
  /** Open items of a team's queue, oldest qualification first. */
  listTeamQueue(teamId: string, limit?: number): Promise<QueueItem[]>;
  /** Open items a rep has claimed, in claim order. */
  listRepClaims(rep: string): Promise<QueueItem[]>;
  /**
   * Claims for `rep` unless someone else holds it; claiming one's own claim again succeeds (and
   * writes nothing). With `announceBy`, the same write leaves the item in the SLA index due then
   * (`announceClaimAt`), so the claim-SLA check announces `lead.claimed` if nobody else did.
   */
  claim(ref: QueueRef, rep: string, at: string, announceBy?: string): Promise<ClaimResult>;
  /** `lead.claimed` of the claim made at `claimedAt` reached the bus: the item leaves the SLA index. */
  claimAnnounced(ref: QueueRef, claimedAt: string): Promise<void>;
  /** Moves an unclaimed item from the rep it was with to another (with `announce`, atomically); false if it changed meanwhile. */
  reassign(
    ref: QueueRef,
    from: { rep: string; claimBy: string },
    to: { rep: string; repName: string; claimBy: string; misses: number; assignedAt: string; notifyAfter: string },
    announce?: PendingEvent[],
  ): Promise<boolean>;
  /** Ends the claim deadline of an unclaimed item after its last miss; false if it changed meanwhile. */
  escalate(ref: QueueRef, from: { rep: string; claimBy: string }, misses: number, at: string): Promise<boolean>;
  /** Unclaimed items whose claim window closed at or before `now`. */
  listOverdue(shard: number, now: string, limit: number): Promise<QueueRef[]>;
  /** Unclaimed items still owed a notification, due for a try at or before `now`. */
  listUnnotified(shard: number, now: string, limit: number): Promise<QueueRef[]>;
  /** Records notification progress, only while the item is still with `rep` and unclaimed. */
  recordNotification(ref: QueueRef, rep: string, patch: NotificationPatch): Promise<void>;
  /**
   * Records the outcome: removes the queue item and keeps the closure on the lead's pointer.
   * With `claimedBy`, only while that rep holds the claim. False when the item is gone or held.
   */
  close(ref: QueueRef, closure: Closure, claimedBy: string | undefined, announce?: PendingEvent[]): Promise<boolean>;
}
