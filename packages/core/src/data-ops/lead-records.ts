/**
 * The port behind GDPR erasure and export: everything the store holds on one person, found by the
 * keys it is stored under (never by scanning the table), and removed the same way.
 */
import type { Lead } from "../lead";

/** An item as stored, key attributes removed. */
export type HeldItem = Record<string, unknown>;

export interface HeldRecords {
  /** In the lead's partition: per-sequence enrollments and the emails sent to the lead. */
  enrollments: HeldItem[];
  messages: HeldItem[];
  /** Items keyed by the address in clear (the legacy dedupe item, an unsubscribe/bounce suppression). */
  addressItems: HeldItem[];
  /** Open sales-queue items of the lead, in any team's queue. */
  salesQueue: HeldItem[];
  /** Reward-points ledger entries of the lead as a customer. */
  ledger: HeldItem[];
  /** Items in the lead's partition of kinds the store does not name yet: held, so exported and erased too. */
  other: HeldItem[];
}

export interface LeadRecordStore {
  /** What is held on the lead besides the lead item and its activities (the LeadStore reads those). */
  collect(lead: Lead, scope: { teamIds: readonly string[] }): Promise<HeldRecords>;
  /**
   * Deletes every item held on the lead: its whole partition (the lead item last, so an
   * interrupted erase can be repeated), the items keyed by its address, its queue items and ledger.
   * Never touches the hashed suppression. Returns how many items were deleted.
   */
  erase(lead: Lead, scope: { teamIds: readonly string[] }): Promise<number>;
}
