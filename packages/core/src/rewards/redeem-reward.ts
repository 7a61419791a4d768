/**
 * redeemReward: a customer spends points on a reward of the rewards.yaml catalogue, once per
 * redemption id. The balance and the reward's limits are judged on the ledger as read, and the
 * redemption is booked only if no other booking of that customer came in between, so two
 * redemptions racing for the same points cannot both spend them. A refusal books nothing.
 */
import * as z from "../zod-mini";
import type { CatalogueReward, Rewards } from "../config/schema";
import { addDuration } from "../duration";
import type { Lead } from "../lead";
import { bookLedgerEntry, type RewardsDeps, type TierChanged } from "./ledger-booking";
import { LedgerId, parseBody } from "./ledger-input";
import { describeDuration } from "./points";
import { customerFor, rewardsOf } from "./record-purchase";
import { InsufficientPointsError, LedgerConflictError, RewardLimitError } from "./rewards-errors";
import type { EntryResult, LedgerEntry, RedemptionEntry } from "./rewards-store";

export const RedemptionInput = z.strictObject({
  redemptionId: LedgerId,
  rewardId: z.string("must be the id of a reward in rewards.yaml").check(z.minLength(1, "is required")),
});
export type RedemptionInput = z.infer<typeof RedemptionInput>;

export interface RedemptionOutcome extends EntryResult {
  redemptionId: string;
  reward: { id: string; name: string; points: number };
  created: boolean;
  tierChanged?: TierChanged;
}

export function parseRedemption(rewards: Rewards, body: unknown): RedemptionInput {
  return parseBody(RedemptionInput, body, (input) =>
    rewards.catalogue.some((r) => r.id === input.rewardId)
      ? []
      : [
          {
            field: "rewardId",
            message:
              rewards.catalogue.length > 0
                ? `is not a reward of rewards.yaml; the catalogue has ${rewards.catalogue.map((r) => r.id).join(", ")}`
                : "is not a reward of rewards.yaml, whose catalogue is empty",
          },
        ],
  );
}

/** Refuses a redemption the reward's limits do not allow (limits count this customer's redemptions of it). */
function checkLimits(reward: CatalogueReward, entries: readonly LedgerEntry[], now: Date): void {
  const mine = entries.filter((e): e is RedemptionEntry => e.kind === "redemption" && e.rewardId === reward.id).map((e) => e.at);
  const limits = reward.limits;
  if (limits?.perCustomer !== undefined && mine.length >= limits.perCustomer) {
    throw new RewardLimitError(reward.id, limits.perCustomer, mine.length, undefined, undefined);
  }
  if (limits?.perPeriod !== undefined && limits.period) {
    const period = limits.period;
    // In the window: redeemed less than one period ago.
    const inWindow = mine.filter((at) => addDuration(new Date(at), period).getTime() > now.getTime()).sort();
    if (inWindow.length >= limits.perPeriod) {
      const freed = inWindow[inWindow.length - limits.perPeriod];
      const nextAt = freed ? addDuration(new Date(freed), period).toISOString() : undefined;
      throw new RewardLimitError(reward.id, limits.perPeriod, inWindow.length, describeDuration(period), nextAt);
    }
  }
}

export async function redeemReward(deps: RewardsDeps, leadId: string, body: unknown): Promise<RedemptionOutcome> {
  const rewards = rewardsOf(deps.config);
  const input = parseRedemption(rewards, body);
  const reward = rewards.catalogue.find((r) => r.id === input.rewardId) as CatalogueReward;
  const lead: Lead = await customerFor(deps, leadId);
  const entryId = `redemption:${input.redemptionId}`;
  const outcome = await bookLedgerEntry(deps, rewards, lead, {
    entryId,
    differs: (booked) => (booked.kind !== "redemption" ? ["kind"] : booked.rewardId !== input.rewardId ? ["rewardId"] : []),
    conflict: (differs) => new LedgerConflictError("redemption", input.redemptionId, differs),
    build: ({ entries, state, now }) => {
      // The limit first: more points would not change that answer.
      checkLimits(reward, entries, now);
      if (state.balance < reward.points) throw new InsufficientPointsError(lead.id, state.balance, reward.points, `the reward ${reward.id}`);
      const entry: RedemptionEntry = {
        entryId,
        kind: "redemption",
        redemptionId: input.redemptionId,
        rewardId: reward.id,
        points: -reward.points,
        at: now.toISOString(),
        recordedAt: now.toISOString(),
      };
      return { entry, counts: { redemptions: 1, pointsRedeemed: reward.points } };
    },
  });
  return {
    redemptionId: input.redemptionId,
    reward: { id: reward.id, name: reward.name, points: reward.points },
    ...outcome.result,
    created: outcome.created,
    ...(outcome.tierChanged ? { tierChanged: outcome.tierChanged } : {}),
  };
}
