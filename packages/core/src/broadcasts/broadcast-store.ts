/**
 * The broadcast's port: its run state (queued how far), its recipients as entries of a sparse,
 * sharded due index, and per-shard tallies of what became of them. A recipient is claimed with a
 * conditional write before its email is sent and settled under that claim, so the tallies count
 * each recipient once and a crashed sender's claim is found again when it lapses.
 */
import type { DueIndex } from "../due-index";
import type { Lead } from "../lead";

export type BroadcastStatus = "scheduled" | "queueing" | "queued" | "missed";

export interface BroadcastState {
  broadcastId: string;
  status: BroadcastStatus;
  /** When queueing starts (and the state's due-index entry is due). */
  startAt: string;
  /** Where queueing stopped: the opaque position of the next page of leads. */
  cursor?: string;
  /** Recipients queued so far. */
  queued: number;
  /** Leads read so far. */
  scanned: number;
  version: number;
}

export type RecipientStatus = "pending" | "sending" | "sent" | "skipped" | "uncertain";

export interface Recipient {
  broadcastId: string;
  leadId: string;
  dueAt: string;
  status: RecipientStatus;
  attempts: number;
  /** Set while a sender holds it. */
  claim?: { token: string; until: string };
  reason?: string;
}

/** A recipient as the due index lists it. */
export interface RecipientRef {
  broadcastId: string;
  leadId: string;
  dueAt: string;
}

export type RecipientOutcome =
  | { status: "sent"; messageId: string }
  | { status: "skipped" | "uncertain"; reason: string }
  /** Not sent yet (SES refused for now): due again at `retryAt`. */
  | { retryAt: string; attempts: number };

/** What became of a broadcast's recipients, summed over the tally shards. */
export type BroadcastTally = Record<"sent" | "skipped" | "uncertain", number>;

export interface BroadcastStore {
  getState(broadcastId: string): Promise<BroadcastState | undefined>;
  /** False when a state exists already (another run created it). */
  createState(state: BroadcastState): Promise<boolean>;
  /** Conditional on `expectedVersion`; false when another run moved it first. */
  saveState(state: BroadcastState, expectedVersion: number): Promise<boolean>;
  /** One page of every lead, in a stable order; `cursor` undefined once the last page is read. */
  scanLeads(cursor: string | undefined, limit: number): Promise<{ leads: Lead[]; cursor?: string }>;
  /** Queues recipients not queued before; returns how many were new (a page queued twice adds nothing). */
  addRecipients(recipients: Omit<Recipient, "status" | "attempts">[]): Promise<number>;
  readonly recipients: DueIndex<RecipientRef>;
  /** Takes a due recipient (pending, or a lapsed claim); returns it as it was, or undefined if another sender has it. */
  claimRecipient(ref: RecipientRef, claim: { token: string; until: string }, now: string): Promise<Recipient | undefined>;
  /** Settles a claimed recipient and tallies a final outcome, in one write; false when the claim was lost. */
  settleRecipient(ref: RecipientRef, token: string, outcome: RecipientOutcome): Promise<boolean>;
  tally(broadcastId: string): Promise<BroadcastTally>;
}
