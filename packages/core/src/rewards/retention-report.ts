/**
 * Retention in the report: for a period of days, per tier (the tier the customer was in when it
 * happened) and in total, the purchases and how many were repeat purchases, the points earned,
 * redeemed, taken back and lapsed. Read from the day rows the bookings counted in their own
 * transactions, so the figures cost days × shards to read, whatever the number of customers.
 *
 * Repeat purchase rate: the share of the period's purchases made by customers who had bought
 * before (repeat purchases ÷ purchases).
 */
import type { Rewards } from "../config/schema";
import { daysBetween, IsoDay, parseReportQuery, reportQuery } from "../reports/report-query";
import { RETENTION_COUNTS, type RetentionCounts, type RewardsStore } from "./rewards-store";

export const RetentionQuery = reportQuery({ from: IsoDay, to: IsoDay });
export interface RetentionQuery {
  from: string;
  to: string;
}

export function parseRetentionQuery(input: Record<string, unknown>): RetentionQuery {
  return parseReportQuery(RetentionQuery, input) as RetentionQuery;
}

export interface RetentionFigures extends RetentionCounts {
  /** Repeat purchases over purchases; null when there were none. */
  repeatPurchaseRate: number | null;
}

export interface RetentionReport {
  period: RetentionQuery;
  /** Every tier of rewards.yaml, lowest first (zeros included), then any tier no longer configured. */
  tiers: (RetentionFigures & { tier: string | null; name: string })[];
  total: RetentionFigures;
}

const zero = (): RetentionCounts => Object.fromEntries(RETENTION_COUNTS.map((k) => [k, 0])) as unknown as RetentionCounts;
const figures = (c: RetentionCounts): RetentionFigures => ({ ...c, repeatPurchaseRate: c.purchases > 0 ? c.repeatPurchases / c.purchases : null });

export async function buildRetentionReport(deps: { rewards: Pick<RewardsStore, "readRetentionDay">; rewardsConfig: Rewards }, query: RetentionQuery): Promise<RetentionReport> {
  const byTier = new Map<string, RetentionCounts>();
  for (const tier of deps.rewardsConfig.tiers) byTier.set(tier.id, zero());
  const total = zero();
  const rows = [];
  const days = daysBetween(query.from, query.to);
  // A few days at a time: a year is 366 × shards reads, which need not all be in flight at once.
  for (let i = 0; i < days.length; i += 16) rows.push(...(await Promise.all(days.slice(i, i + 16).map((day) => deps.rewards.readRetentionDay(day)))).flat());
  for (const row of rows) {
    const key = row.tier ?? "";
    const counts = byTier.get(key) ?? zero();
    for (const k of RETENTION_COUNTS) {
      counts[k] += row[k];
      total[k] += row[k];
    }
    byTier.set(key, counts);
  }
  const names = new Map(deps.rewardsConfig.tiers.map((t) => [t.id, t.name ?? t.id]));
  return {
    period: query,
    tiers: [...byTier].map(([tier, counts]) => ({ tier: tier === "" ? null : tier, name: tier === "" ? "No tier" : (names.get(tier) ?? tier), ...figures(counts) })),
    total: figures(total),
  };
}
