/**
 * Reward points, pure: what a purchase earns, what a ledger is worth at a moment (unexpired
 * entries only), and which tier a balance reaches. Shared by the purchase use case, the points
 * route and the simulator, so they cannot disagree.
 */
import type { Rewards, RewardTier } from "../config/schema";
import { parseDuration } from "../duration";

/** Whole points for an amount; undefined when rewards.yaml lists no rate for the currency. */
export function pointsFor(rewards: Pick<Rewards, "pointsPerUnit">, amount: number, currency: string): number | undefined {
  const rate = rewards.pointsPerUnit[currency];
  if (rate === undefined) return undefined;
  // Settle float noise first (19.99 × 1.1 is 21.989000000000001), then round down: points are
  // earned per whole unit.
  return Math.floor(Number((amount * rate).toFixed(6)));
}

export interface PointsEntry {
  /** Positive: earned (a lot that expires at `expiresAt`); negative: spent or taken back. */
  points: number;
  at: string;
  /** When an earned entry's points lapse; a negative entry has none. */
  expiresAt?: string;
  /** The lot an earned entry adds to (default its own), or the lot a negative entry takes from first. */
  lot?: string;
  entryId?: string;
}

export interface LedgerState {
  /** Unexpired points less any points owed (a refund of points already spent). */
  balance: number;
  /** Points that lapsed unspent, up to `now`. */
  expired: number;
  /** When the next unspent points lapse; undefined when none are left. */
  nextExpiryAt?: string;
}

interface Lot {
  id: string;
  remaining: number;
  expiresAt: string;
}

/**
 * The ledger replayed up to `now`, oldest first. Earned points form lots that lapse at their
 * expiry; spent points come from the lot a debit names first (a refund from its purchase), then
 * from the lots that lapse soonest (the customer keeps the longest-lived points); what no lot
 * covers is owed, and later earnings pay it back before they count.
 */
export function ledgerState(entries: readonly PointsEntry[], now: Date): LedgerState {
  const ms = now.getTime();
  const ordered = entries
    .filter((e) => Date.parse(e.at) <= ms)
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : (a.entryId ?? "") < (b.entryId ?? "") ? -1 : 1));
  const lots = new Map<string, Lot>();
  let owed = 0;
  let expired = 0;
  const lapse = (upTo: number) => {
    for (const [id, lot] of lots) {
      if (Date.parse(lot.expiresAt) <= upTo) {
        expired += lot.remaining;
        lots.delete(id);
      }
    }
  };
  ordered.forEach((entry, i) => {
    lapse(Date.parse(entry.at));
    if (entry.points > 0) {
      const repaid = Math.min(owed, entry.points);
      owed -= repaid;
      const id = entry.lot ?? entry.entryId ?? `#${i}`;
      const lot = lots.get(id);
      if (lot) lot.remaining += entry.points - repaid;
      else lots.set(id, { id, remaining: entry.points - repaid, expiresAt: entry.expiresAt ?? "9999-12-31T00:00:00.000Z" });
      return;
    }
    let need = -entry.points;
    const first = entry.lot ? lots.get(entry.lot) : undefined;
    const order = [...(first ? [first] : []), ...[...lots.values()].filter((l) => l !== first).sort((a, b) => (a.expiresAt < b.expiresAt ? -1 : a.expiresAt > b.expiresAt ? 1 : 0))];
    for (const lot of order) {
      const take = Math.min(lot.remaining, need);
      lot.remaining -= take;
      need -= take;
      if (need === 0) break;
    }
    owed += need;
  });
  lapse(ms);
  let balance = 0 - owed;
  let nextExpiryAt: string | undefined;
  for (const lot of lots.values()) {
    balance += lot.remaining;
    if (lot.remaining > 0 && (nextExpiryAt === undefined || lot.expiresAt < nextExpiryAt)) nextExpiryAt = lot.expiresAt;
  }
  return { balance, expired, ...(nextExpiryAt ? { nextExpiryAt } : {}) };
}

/** Points still valid at `now` (see ledgerState). */
export function balanceAt(entries: readonly PointsEntry[], now: Date): number {
  return ledgerState(entries, now).balance;
}

/** The highest tier the balance reaches, or undefined below the lowest threshold. */
export function tierFor(rewards: Pick<Rewards, "tiers">, balance: number): RewardTier | undefined {
  let reached: RewardTier | undefined;
  for (const tier of rewards.tiers) if (balance >= tier.threshold) reached = tier;
  return reached;
}

/** The next tier up and the points still missing to it; undefined at the top. */
export function nextTier(rewards: Pick<Rewards, "tiers">, balance: number): { tier: RewardTier; pointsToGo: number } | undefined {
  const tier = rewards.tiers.find((t) => t.threshold > balance);
  return tier && { tier, pointsToGo: tier.threshold - balance };
}

export const tierName = (tier: RewardTier | undefined): string | undefined => tier && (tier.name ?? tier.id);

/**
 * The `tier` and `points` merge fields, the same in the tier-change email and in retention
 * emails: `{{ points.balance }}`, `{{ tier.name }}`, `{{ tier.next }}`, `{{ tier.pointsToNext }}`,
 * `{{ points.validFor }}`; the tier-change email adds `{{ tier.previous }}` and `{{ points.earned }}`.
 */
export function pointsMergeFields(rewards: Rewards, balance: number, change: { from?: string | null; earned?: number } = {}) {
  const tier = tierFor(rewards, Math.max(0, balance));
  const next = nextTier(rewards, Math.max(0, balance));
  const previous = rewards.tiers.find((t) => t.id === change.from);
  return {
    tier: {
      id: tier?.id ?? null,
      name: tierName(tier) ?? "no tier",
      previous: tierName(previous) ?? null,
      next: tierName(next?.tier) ?? null,
      pointsToNext: next?.pointsToGo ?? null,
    },
    points: { balance, earned: change.earned ?? null, validFor: describeDuration(rewards.expiry) },
  };
}

const UNITS = [
  ["years", "year"],
  ["months", "month"],
  ["weeks", "week"],
  ["days", "day"],
  ["hours", "hour"],
] as const;

/** "P365D" → "365 days", "P1Y" → "1 year": the expiry as a customer reads it. */
export function describeDuration(iso: string): string {
  const parts = parseDuration(iso).toObject();
  const words = UNITS.flatMap(([key, unit]) => {
    const n = parts[key];
    return n ? [`${n} ${unit}${n === 1 ? "" : "s"}`] : [];
  });
  return words.length > 0 ? words.join(" ") : iso;
}
