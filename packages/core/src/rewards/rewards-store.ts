/**
 * The port for reward points: an append-only ledger per customer and the customer's account
 * (balance, tier, a version). Every entry is booked in one transaction with a move of the
 * account's version, so bookings of one customer are serialised: a redemption judged on the
 * balance it read cannot be overtaken by another debit, and what a booking counts for the
 * retention report is counted exactly once, with it.
 */
import type { PendingEvent } from "../ports";
import type { PointsEntry } from "./points";

/** What a booking answered first; a retry answers the same. */
export interface EntryResult {
  points: number;
  balance: number;
  tier: string | null;
}
export type PurchaseResult = EntryResult;

interface EntryBase extends PointsEntry {
  /** `<kind>:<id>`: the entry's key in the ledger, so a retry never books twice. */
  entryId: string;
  recordedAt: string;
  result?: EntryResult;
}

export interface PurchaseEntry extends EntryBase {
  kind: "purchase";
  purchaseId: string;
  amount: number;
  currency: string;
  expiresAt: string;
  /** The `at` the caller sent, if any: a retry must send the same one. */
  requestedAt?: string;
}

export interface RedemptionEntry extends EntryBase {
  kind: "redemption";
  redemptionId: string;
  rewardId: string;
}

/** Takes back what a purchase earned (nothing when those points had already lapsed). */
export interface RefundEntry extends EntryBase {
  kind: "refund";
  purchaseId: string;
  reason?: string;
}

/** A correction to a purchase's points, with the reason a person gave. */
export interface AdjustmentEntry extends EntryBase {
  kind: "adjustment";
  adjustmentId: string;
  purchaseId: string;
  reason: string;
}

export type LedgerEntry = PurchaseEntry | RedemptionEntry | RefundEntry | AdjustmentEntry;

export interface RewardsAccount {
  leadId: string;
  balance: number;
  tier: string | null;
  updatedAt: string;
  /** Points lapsed unspent so far (the report counts what each settlement adds). */
  expired: number;
  /** When the next unspent points lapse: the expiry job settles the account then. */
  nextExpiryAt?: string;
  /** Moves on every booking and every settlement; 0 for an account never written. */
  version: number;
}

/** Retention figures of one day and tier (the tier the customer was in when it happened). */
export interface RetentionCounts {
  purchases: number;
  /** Purchases by a customer who had bought before. */
  repeatPurchases: number;
  pointsEarned: number;
  redemptions: number;
  pointsRedeemed: number;
  /** Points taken back by refunds and downward adjustments. */
  pointsReversed: number;
  pointsExpired: number;
}
export const RETENTION_COUNTS: readonly (keyof RetentionCounts)[] = [
  "purchases",
  "repeatPurchases",
  "pointsEarned",
  "redemptions",
  "pointsRedeemed",
  "pointsReversed",
  "pointsExpired",
];

/** What one booking or settlement adds to the retention figures of `day` (YYYY-MM-DD). */
export interface RetentionTally {
  day: string;
  tier: string | null;
  counts: Partial<RetentionCounts>;
}

export interface RetentionRow extends RetentionCounts {
  tier: string | null;
}

export interface ExpiryRef {
  leadId: string;
  dueAt: string;
}

export interface RewardsStore {
  /**
   * Books the entry, moves the account's version from `expectedVersion` (0: no account yet, which
   * is then created with `initialTier`) and adds `tally`, all or nothing. False when the entry
   * exists already or the version moved: read again and decide again.
   */
  bookEntry(
    leadId: string,
    entry: LedgerEntry,
    expectedVersion: number,
    options: { initialTier: string | null; tally?: RetentionTally; announce?: PendingEvent[] },
  ): Promise<boolean>;
  /** The customer's whole ledger, oldest first. */
  listEntries(leadId: string): Promise<LedgerEntry[]>;
  setEntryResult(leadId: string, entryId: string, result: EntryResult): Promise<void>;
  getAccount(leadId: string): Promise<RewardsAccount | undefined>;
  /**
   * Writes the account's balance, tier, expired points and next expiry if its version is still
   * `expectedVersion` (0: not written yet); false otherwise. `announce` (outbox entries, see
   * events-outbox.ts) and `tally` are written in the same transaction.
   */
  saveAccount(account: Omit<RewardsAccount, "version">, expectedVersion: number, announce?: PendingEvent[], tally?: RetentionTally): Promise<boolean>;
  /** Shards of the expiry index (accounts by next expiry). */
  readonly expiryShards: number;
  /** Accounts whose next expiry is at or before `upTo`, oldest first. */
  listExpiryDue(shard: number, upTo: string, limit: number): Promise<ExpiryRef[]>;
  /** The retention figures of one day, per tier, summed over the day's shards. */
  readRetentionDay(day: string): Promise<RetentionRow[]>;
}
