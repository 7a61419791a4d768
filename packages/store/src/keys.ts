/**
 * Every key in the one leadloop table. The layout is written down in packages/store/README.md;
 * entities later issues will add (enrollment, message, sales queue, round robin, reward ledger,
 * report aggregates) have their keys reserved here, so adding them needs no migration.
 */

export interface Key {
  pk: string;
  sk: string;
}

/** Time-ordered partitions are spread over this many shards so no partition takes every write. */
export const UNPUBLISHED_SHARDS = 8;
export const DUE_SHARDS = 16;
export const REPORT_SHARDS = 16;
/**
 * Shards of a cohort row. Its key already spreads writes over seven dimensions, so few shards keep
 * a busy combination below an item's write limit while the cohort funnel reads far fewer items.
 */
export const COHORT_SHARDS = 4;
export const RECYCLE_SHARDS = 8;
export const UNANNOUNCED_SHARDS = 8;
export const CONFIRMATION_SHARDS = 4;
export const OUTBOX_SHARDS = 8;
export const REWARD_EXPIRY_SHARDS = 8;
/** Shards of a day's retention figures: a busy shop's bookings spread over them. */
export const RETENTION_SHARDS = 4;
export const WEBHOOK_SHARDS = 4;

/** FNV-1a: a stable, cheap spread of ids over shards (not security relevant). */
export function shardOf(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

export const keys = {
  /**
   * The lead itself: one item per person, its id derived from the normalised email (core's
   * deriveLeadId), so a conditional put on this key is the dedupe. Its activities, enrollments and
   * messages share the partition.
   */
  lead: (leadId: string): Key => ({ pk: `LEAD#${leadId}`, sk: "LEAD" }),
  /** Keyed by the normalised address (not the lead), so an address is suppressed even before it is a lead. */
  suppression: (email: string): Key => ({ pk: `EMAIL#${email}`, sk: "SUPPRESSION" }),
  /**
   * One client's fixed rate-limit window (see core's client-limits.ts): its own partition per key
   * and window, so a flood from one client never makes a hot key for anyone else; gone by TTL.
   */
  rateWindow: (clientKey: string, windowStartMs: number): Key => ({ pk: `RATE#${clientKey}#${windowStartMs}`, sk: "RATE" }),
  activity: (leadId: string, activityId: string): Key => ({ pk: `LEAD#${leadId}`, sk: `ACT#${activityId}` }),
  activityPrefix: "ACT#",
  /** Marks that a keyed submission (an import row) was merged into the lead, so a repeat adds nothing. */
  submissionKey: (leadId: string, key: string): Key => ({ pk: `LEAD#${leadId}`, sk: `SUBKEY#${key}` }),
  // Reserved for issue 4 and later.
  enrollment: (leadId: string, sequenceId: string): Key => ({ pk: `LEAD#${leadId}`, sk: `ENR#${sequenceId}` }),
  message: (leadId: string, messageId: string): Key => ({ pk: `LEAD#${leadId}`, sk: `MSG#${messageId}` }),
  /**
   * A due shard's sweep lease: who sweeps the shard until when, and the steps that holder marked
   * before sending them (cleared once each is recorded). One item per shard, written a few times
   * per sweep of a shard with work in it, never on an idle sweep.
   */
  sweepLease: (shard: number): Key => ({ pk: `SWEEP#${shard}`, sk: "LEASE" }),
  salesQueueItem: (teamId: string, qualifiedAt: string, leadId: string): Key => ({
    pk: `QUEUE#${teamId}`,
    sk: `${qualifiedAt}#${leadId}`,
  }),
  roundRobin: (teamId: string): Key => ({ pk: `TEAM#${teamId}`, sk: "ROUNDROBIN" }),
  rep: (teamId: string, repId: string): Key => ({ pk: `TEAM#${teamId}`, sk: `REP#${repId}` }),
  /** One ledger entry per purchase (`purchase:<id>`): its key is the idempotency, so a retry never books twice. */
  rewardEntry: (ownerId: string, entryId: string): Key => ({ pk: `LEDGER#${ownerId}`, sk: `ENTRY#${entryId}` }),
  rewardEntryPrefix: "ENTRY#",
  /** The customer's balance and tier, beside the ledger it sums; written only on that customer's purchases. */
  rewardAccount: (ownerId: string): Key => ({ pk: `LEDGER#${ownerId}`, sk: "ACCOUNT" }),
  /** A day's retention figures for one tier, in one of the day's shards (summed when read). */
  retentionAggregate: (day: string, shard: number, tier: string | null): Key => ({ pk: `RETAIN#${day}#${shard}`, sk: `TIER#${tier ?? "-"}` }),
  /** A not-now lead waiting for its recycle date, in the lead's partition. */
  recycle: (leadId: string): Key => ({ pk: `LEAD#${leadId}`, sk: "RECYCLE" }),
  reportAggregate: (day: string, shard: number, segment: string, sourceId: string, formId: string): Key => ({
    pk: `REPORT#${day}#${shard}`,
    sk: `SEG#${segment}#SRC#${sourceId}#FORM#${formId}`,
  }),
  /** Email figures of one sequence step, beside the day's funnel rows in the same shard partitions. */
  reportEmailAggregate: (day: string, shard: number, sequenceId: string, stepId: string, segment: string, sourceId: string, formId: string): Key => ({
    pk: `REPORT#${day}#${shard}`,
    sk: `SEQ#${sequenceId}#STEP#${stepId}#SEG#${segment}#SRC#${sourceId}#FORM#${formId}`,
  }),
  /** A lead's cohort row: one capture day × its dimensions, sharded like the day aggregates. */
  cohortAggregate: (day: string, shard: number, dims: readonly string[]): Key => ({
    pk: `COHORT#${day}#${shard}`,
    sk: dims.join("#"),
  }),
  // `COHORTV#<day>#<shard>` partitions (one row per capture day × dimension value) may remain in
  // tables written before the cohort funnel summed its breakdowns from the cohort rows: nothing
  // reads or writes them now, and the prefix stays taken.
  /** One A/B variant's figures of a step (sends, opens, clicks, MQLs, wins), on one of REPORT_SHARDS partitions. */
  abVariant: (sequenceId: string, stepId: string, shard: number, variantId: string): Key => ({
    pk: `ABTEST#${sequenceId}#${stepId}#${shard}`,
    sk: `V#${variantId}`,
  }),
  /** How a step's A/B test ended: written once, kept. */
  abDecision: (sequenceId: string, stepId: string): Key => ({ pk: `ABTEST#${sequenceId}#${stepId}`, sk: "DECISION" }),
  /** A closed deal's review, in the partition of the day it closed (one item per closure). */
  dealReview: (closedAt: string, leadId: string): Key => ({ pk: `REVIEW#${closedAt.slice(0, 10)}`, sk: `${closedAt}#${leadId}` }),
  /** A rep's latest verdict on a lead's quality, in the lead's partition (erased with it). */
  leadQuality: (leadId: string): Key => ({ pk: `LEAD#${leadId}`, sk: "QUALITY" }),
  /** A double-opt-in lead's confirmation state, in the lead's partition (erased with it). */
  confirmation: (leadId: string): Key => ({ pk: `LEAD#${leadId}`, sk: "CONFIRMATION" }),
  /** What the report already counted for a lead (its facts and stage times), in the lead's partition. */
  reportState: (leadId: string): Key => ({ pk: `LEAD#${leadId}`, sk: "REPORT" }),
  /** An event waiting to reach the bus (the outbox), in the lead's partition so an erase takes it too. */
  pendingEvent: (leadId: string, key: string): Key => ({ pk: `LEAD#${leadId}`, sk: `OUTBOX#${key}` }),
  /** An integration's API key (its hash, never the key), its own partition: read on every request it makes. */
  apiKey: (keyId: string): Key => ({ pk: `APIKEY#${keyId}`, sk: "APIKEY" }),
  /** One outgoing webhook delivery, in its endpoint's partition, ordered by the event's time. */
  webhookDelivery: (endpointId: string, createdAt: string, deliveryId: string): Key => ({
    pk: `WEBHOOK#${endpointId}`,
    sk: `DELIVERY#${createdAt}#${deliveryId}`,
  }),
  webhookDeliveryPrefix: "DELIVERY#",
} as const;

/** Sparse GSI entries: an item is in an index only while it carries these attributes. */
export const indexKeys = {
  /**
   * A lead whose `lead.captured` is not known to have reached the bus (gsi1), due to the
   * republisher at `dueAt` (entries written before due times kept the lead's `createdAt`: due).
   */
  unpublished: (leadId: string, dueAt: string) => ({
    gsi1pk: `UNPUBLISHED#${shardOf(leadId, UNPUBLISHED_SHARDS)}`,
    gsi1sk: `${dueAt}#${leadId}`,
  }),
  unpublishedShard: (shard: number) => `UNPUBLISHED#${shard}`,
  /** The due time of a lead item's unpublished entry, read back from its gsi1 keys; undefined when it has none. */
  unpublishedDueOf: (item: Record<string, unknown>): string | undefined =>
    typeof item.gsi1pk === "string" && item.gsi1pk.startsWith("UNPUBLISHED#") && typeof item.gsi1sk === "string"
      ? item.gsi1sk.slice(0, item.gsi1sk.lastIndexOf("#"))
      : undefined,
  /** A message, found from the SES message id an SES event carries (gsi1). */
  sesMessage: (sesMessageId: string) => ({ gsi1pk: `SESMSG#${sesMessageId}`, gsi1sk: "MSG" }),
  /** The leads a rep has claimed, newest claim last (gsi1). */
  repClaim: (repId: string, claimedAt: string, leadId: string) => ({
    gsi1pk: `REP#${repId}`,
    gsi1sk: `${claimedAt}#${leadId}`,
  }),
  /** An enrollment's next step, due at `dueAt` (due index). */
  due: (leadId: string, sequenceId: string, dueAt: string) => ({
    duePk: `DUE#${shardOf(`${leadId}#${sequenceId}`, DUE_SHARDS)}`,
    dueSk: `${dueAt}#${leadId}#${sequenceId}`,
  }),
  dueShard: (shard: number) => `DUE#${shard}`,
  /** Upper bound for `dueSk` in a sweep: everything due at or before `now` sorts below it. */
  dueUpTo: (now: string) => `${now}$`,
  /** A not-now lead's recycle date (due index, its own partitions beside the nurture steps'). */
  recycleDue: (leadId: string, recycleAt: string) => ({
    duePk: `RECYCLE#${shardOf(leadId, RECYCLE_SHARDS)}`,
    dueSk: `${recycleAt}#${leadId}`,
  }),
  recycleShard: (shard: number) => `RECYCLE#${shard}`,
  /**
   * A qualification whose `lead.qualified` has not reached the bus yet (due index, on the lead
   * item: gsi1 there already holds the unpublished entry, which a lead may carry at the same time).
   */
  unannounced: (leadId: string, qualifiedAt: string) => ({
    duePk: `UNANNOUNCED#${shardOf(leadId, UNANNOUNCED_SHARDS)}`,
    dueSk: `${qualifiedAt}#${leadId}`,
  }),
  unannouncedShard: (shard: number) => `UNANNOUNCED#${shard}`,
  /** A confirmation to retry, or a lead to expire, at `dueAt` (due index). */
  confirmationDue: (leadId: string, dueAt: string) => ({
    duePk: `CONFIRM#${shardOf(leadId, CONFIRMATION_SHARDS)}`,
    dueSk: `${dueAt}#${leadId}`,
  }),
  confirmationShard: (shard: number) => `CONFIRM#${shard}`,
  /** A points account whose next unspent points lapse at `expiresAt` (due index). */
  rewardExpiry: (leadId: string, expiresAt: string) => ({
    duePk: `EXPIRY#${shardOf(leadId, REWARD_EXPIRY_SHARDS)}`,
    dueSk: `${expiresAt}#${leadId}`,
  }),
  rewardExpiryShard: (shard: number) => `EXPIRY#${shard}`,
  /** An outbox entry: an event written with its state change, due to the republisher at `dueAt`. */
  pendingEvent: (leadId: string, key: string, dueAt: string) => ({
    duePk: `OUTBOX#${shardOf(leadId, OUTBOX_SHARDS)}`,
    dueSk: `${dueAt}#${leadId}#${key}`,
  }),
  pendingEventShard: (shard: number) => `OUTBOX#${shard}`,
  /** Every API key, for the admin's list (gsi1): written only when a key is created, revoked or used after a minute's rest. */
  apiKeyList: (keyId: string, createdAt: string) => ({ gsi1pk: "APIKEYS", gsi1sk: `${createdAt}#${keyId}` }),
  /** A webhook delivery's next attempt, due at `dueAt` (due index). */
  webhookDue: (endpointId: string, createdAt: string, deliveryId: string, dueAt: string) => ({
    duePk: `WEBHOOK#${shardOf(deliveryId, WEBHOOK_SHARDS)}`,
    dueSk: `${dueAt}#${endpointId}#${createdAt}#${deliveryId}`,
  }),
  webhookShard: (shard: number) => `WEBHOOK#${shard}`,
} as const;

/** Broadcasts: recipients queued in a sharded due index, and per-shard tallies of their outcomes. */
export const BROADCAST_SHARDS = 16;
export const broadcastKeys = {
  /** The broadcast's run state (how far its audience is queued). */
  state: (broadcastId: string): Key => ({ pk: `BROADCAST#${broadcastId}`, sk: "STATE" }),
  /** One shard's tally of settled recipients, so no single item takes every send. */
  tally: (broadcastId: string, shard: number): Key => ({ pk: `BROADCAST#${broadcastId}`, sk: `TALLY#${shard}` }),
  tallyPrefix: "TALLY#",
  /** A recipient, in the lead's partition so erasing the lead takes it too. */
  recipient: (leadId: string, broadcastId: string): Key => ({ pk: `LEAD#${leadId}`, sk: `BCAST#${broadcastId}` }),
  /** A recipient due at `dueAt` (due index). */
  recipientDue: (leadId: string, broadcastId: string, dueAt: string) => ({
    duePk: `BCAST#${shardOf(`${leadId}#${broadcastId}`, BROADCAST_SHARDS)}`,
    dueSk: `${dueAt}#${broadcastId}#${leadId}`,
  }),
  recipientShard: (shard: number) => `BCAST#${shard}`,
  /** A broadcast waiting for its start (due index), so the clock stops there. */
  stateDue: (broadcastId: string, startAt: string) => ({ duePk: "BCASTSTART", dueSk: `${startAt}#${broadcastId}` }),
} as const;
