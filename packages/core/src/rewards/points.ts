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
  points: number;
  at: string;
  expiresAt: string;
}

/** Points still valid at `now`: an entry counts from its time until it expires. */
export function balanceAt(entries: readonly PointsEntry[], now: Date): number {
  const ms = now.getTime();
  let balance = 0;
  for (const entry of entries) {
    if (Date.parse(entry.expiresAt) > ms && Date.parse(entry.at) <= ms) balance += entry.points;
  }
  return balance;
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
