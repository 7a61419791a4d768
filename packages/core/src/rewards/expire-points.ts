/**
 * settleExpiredPoints: points lapse on their date, not at the customer's next purchase. Every
 * account carries its next expiry in the due index; this job settles each account that fell due
 * (balance, tier, points lapsed, the next expiry), and a customer who drops a tier is told, once:
 * the settlement is a versioned write, so an overlapping run or a purchase settling the same
 * account at the same moment cannot announce or email the change twice. An account that fails
 * stays due and the next run takes it.
 */
import { sweepDueIndex } from "../due-index";
import { type RewardsDeps, settleAccount } from "./ledger-booking";
import type { ExpiryRef } from "./rewards-store";

export interface ExpiryReport {
  due: number;
  settled: number;
  tierChanges: number;
  failed: number;
}

const BATCH = 100;

export async function settleExpiredPoints(deps: RewardsDeps, options: { batch?: number; deadline?: number } = {}): Promise<ExpiryReport> {
  const report: ExpiryReport = { due: 0, settled: 0, tierChanges: 0, failed: 0 };
  const rewards = deps.config.rewards;
  if (!rewards) return report;
  const now = deps.clock.now().toISOString();
  const swept = await sweepDueIndex(
    { shards: deps.rewards.expiryShards, listDue: (shard, upTo, limit) => deps.rewards.listExpiryDue(shard, upTo, limit) },
    async (ref: ExpiryRef) => {
      const lead = await deps.leads.getLead(ref.leadId);
      // An erased customer's ledger and account went with the lead.
      if (!lead) return;
      const settled = await settleAccount(deps, rewards, lead);
      report.settled++;
      if (settled.tierChanged) report.tierChanges++;
    },
    {
      upTo: now,
      batch: options.batch ?? BATCH,
      ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
      onError: (ref, error) => {
        report.failed++;
        deps.log?.warn("points expiry: account not settled; the next run takes it", { leadId: ref.leadId, error: String(error) });
      },
    },
  );
  report.due = swept.due;
  return report;
}
