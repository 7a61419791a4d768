/**
 * The port for reward points: an append-only ledger per customer, written once per purchase id
 * (a conditional put), and the customer's balance and tier, moved with an optimistic version so
 * exactly one writer sees each tier change.
 */
import type { PendingEvent } from "../ports";
import type { PointsEntry } from "./points";

export interface PurchaseResult {
  points: number;
  balance: number;
  tier: string | null;
}

export interface LedgerEntry extends PointsEntry {
  /** `purchase:<purchaseId>`: one entry per purchase, whatever its time. */
  entryId: string;
  kind: "purchase";
  purchaseId: string;
  amount: number;
  currency: string;
  /** The `at` the caller sent, if any: a retry must send the same one. */
  requestedAt?: string;
  recordedAt: string;
  /** What the purchase answered first; a retry answers the same. */
  result?: PurchaseResult;
}

export interface RewardsAccount {
  leadId: string;
  balance: number;
  tier: string | null;
  updatedAt: string;
  /** Moves on every write; 0 for an account never written. */
  version: number;
}

export interface RewardsStore {
  /** Puts the entry unless the customer's ledger already holds one with its id; then returns that one. */
  addEntry(leadId: string, entry: LedgerEntry): Promise<{ created: true } | { created: false; existing: LedgerEntry }>;
  /** The customer's whole ledger, oldest first. */
  listEntries(leadId: string): Promise<LedgerEntry[]>;
  setEntryResult(leadId: string, entryId: string, result: PurchaseResult): Promise<void>;
  getAccount(leadId: string): Promise<RewardsAccount | undefined>;
  /**
   * Writes the account if its version is still `expectedVersion` (0: not written yet); false
   * otherwise. `announce` (outbox entries, see events-outbox.ts) is written in the same transaction.
   */
  saveAccount(account: Omit<RewardsAccount, "version">, expectedVersion: number, announce?: PendingEvent[]): Promise<boolean>;
}
