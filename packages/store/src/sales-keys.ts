/**
 * Keys the sales queue adds to the one table (documented in packages/store/README.md beside the
 * keys of keys.ts, whose reserved queue, round-robin and rep-claim builders they complete).
 */
import { indexKeys, type Key, keys, shardOf } from "./keys";

/** Claim deadlines and owed notifications are spread over this many shards each. */
export const SLA_SHARDS = 4;
export const NOTIFY_SHARDS = 4;

export const salesKeys = {
  queueItem: keys.salesQueueItem,
  roundRobin: keys.roundRobin,
  /** In the lead's partition: which queue item is the lead's current hand-off, and how it closed. */
  handoff: (leadId: string): Key => ({ pk: `LEAD#${leadId}`, sk: "HANDOFF" }),
  teamQueue: (teamId: string) => `QUEUE#${teamId}`,
} as const;

export const salesIndexKeys = {
  /** An unclaimed item's claim deadline (the `due` index, beside the nurture's `DUE#` shards). */
  sla: (teamId: string, qualifiedAt: string, leadId: string, claimBy: string) => ({
    duePk: `SLA#${shardOf(leadId, SLA_SHARDS)}`,
    dueSk: `${claimBy}#${teamId}#${qualifiedAt}#${leadId}`,
  }),
  slaShard: (shard: number) => `SLA#${shard}`,
  /** An unclaimed item still owed a notification, from `notifyAfter` on (gsi1). */
  notify: (teamId: string, qualifiedAt: string, leadId: string, notifyAfter: string) => ({
    gsi1pk: `NOTIFY#${shardOf(leadId, NOTIFY_SHARDS)}`,
    gsi1sk: `${notifyAfter}#${teamId}#${qualifiedAt}#${leadId}`,
  }),
  notifyShard: (shard: number) => `NOTIFY#${shard}`,
  /** A rep's claimed items (gsi1; the builder keys.ts reserved). */
  repClaim: indexKeys.repClaim,
  repClaims: (rep: string) => indexKeys.repClaim(rep, "", "").gsi1pk,
  /** Upper bound for a sort key of entries due at or before `now`. */
  upTo: (now: string) => `${now}$`,
} as const;
