/**
 * Refunds and adjustments, by purchase id. A refund takes back what the purchase earned (with its
 * adjustments), once: its ledger key is the purchase's, so a retry books nothing more. Points the
 * customer already spent are owed, and the next purchase pays them back first; points that had
 * already lapsed are not taken twice. An adjustment corrects a purchase's points with a reason a
 * person gave, once per adjustment id; one that takes points needs the balance to cover them.
 */
import * as z from "../zod-mini";
import type { Rewards } from "../config/schema";
import { addDuration } from "../duration";
import { bookLedgerEntry, type LedgerView, type RewardsDeps, type TierChanged } from "./ledger-booking";
import { LedgerId, parseBody } from "./ledger-input";
import { customerFor, rewardsOf } from "./record-purchase";
import { InsufficientPointsError, LedgerConflictError, UnknownPurchaseError } from "./rewards-errors";
import type { AdjustmentEntry, EntryResult, PurchaseEntry, RefundEntry } from "./rewards-store";

const Reason = z
  .string("must be text")
  .check(z.trim(), z.minLength(1, "is required: say why, e.g. goodwill for a late delivery"), z.maxLength(500, "must be at most 500 characters"));

export const RefundInput = z.strictObject({ reason: z.optional(Reason) });
export type RefundInput = z.infer<typeof RefundInput>;

export const AdjustmentInput = z.strictObject({
  adjustmentId: LedgerId,
  points: z
    .number("must be a whole number of points")
    .check(
      z.int("must be a whole number of points"),
      z.refine((n) => n !== 0, "must not be 0: positive adds points, negative takes them"),
      z.refine((n) => Math.abs(n) <= 1_000_000, "is too large (at most 1000000 either way)"),
    ),
  reason: Reason,
});
export type AdjustmentInput = z.infer<typeof AdjustmentInput>;

export interface CorrectionOutcome extends EntryResult {
  purchaseId: string;
  created: boolean;
  tierChanged?: TierChanged;
}

function purchaseIn(view: LedgerView, leadId: string, purchaseId: string): PurchaseEntry {
  const purchase = view.entries.find((e): e is PurchaseEntry => e.kind === "purchase" && e.purchaseId === purchaseId);
  if (!purchase) throw new UnknownPurchaseError(leadId, purchaseId);
  return purchase;
}

export async function refundPurchase(deps: RewardsDeps, leadId: string, purchaseId: string, body: unknown): Promise<CorrectionOutcome> {
  const rewards: Rewards = rewardsOf(deps.config);
  const id = LedgerId.safeParse(purchaseId);
  const input = parseBody(RefundInput, body ?? {}, () => (id.success ? [] : [{ field: "purchaseId", message: id.error.issues[0]?.message ?? "is not valid" }]));
  const lead = await customerFor(deps, leadId);
  const entryId = `refund:${purchaseId}`;
  const outcome = await bookLedgerEntry(deps, rewards, lead, {
    entryId,
    differs: (booked) => (booked.kind === "refund" && (booked.reason ?? null) !== (input.reason ?? null) ? ["reason"] : []),
    conflict: (differs) => new LedgerConflictError("refund", purchaseId, differs),
    build: (view) => {
      const purchase = purchaseIn(view, lead.id, purchaseId);
      const lapsed = Date.parse(purchase.expiresAt) <= view.now.getTime();
      const adjusted = view.entries.filter((e) => e.kind === "adjustment" && e.purchaseId === purchaseId).reduce((n, e) => n + e.points, 0);
      const taken = lapsed ? 0 : Math.max(0, purchase.points + adjusted);
      const entry: RefundEntry = {
        entryId,
        kind: "refund",
        purchaseId,
        points: -taken,
        lot: purchase.entryId,
        at: view.now.toISOString(),
        recordedAt: view.now.toISOString(),
        ...(input.reason ? { reason: input.reason } : {}),
      };
      return { entry, counts: { pointsReversed: taken } };
    },
  });
  return { purchaseId, ...outcome.result, created: outcome.created, ...(outcome.tierChanged ? { tierChanged: outcome.tierChanged } : {}) };
}

export async function adjustPurchase(deps: RewardsDeps, leadId: string, purchaseId: string, body: unknown): Promise<CorrectionOutcome> {
  const rewards: Rewards = rewardsOf(deps.config);
  const input = parseBody(AdjustmentInput, body);
  const lead = await customerFor(deps, leadId);
  const entryId = `adjustment:${input.adjustmentId}`;
  const outcome = await bookLedgerEntry(deps, rewards, lead, {
    entryId,
    differs: (booked) =>
      booked.kind !== "adjustment"
        ? ["kind"]
        : [
            ...(booked.purchaseId !== purchaseId ? ["purchaseId"] : []),
            ...(booked.points !== input.points ? ["points"] : []),
            ...(booked.reason !== input.reason ? ["reason"] : []),
          ],
    conflict: (differs) => new LedgerConflictError("adjustment", input.adjustmentId, differs),
    build: (view) => {
      const purchase = purchaseIn(view, lead.id, purchaseId);
      const at = view.now.toISOString();
      if (input.points < 0 && view.state.balance + input.points < 0) {
        throw new InsufficientPointsError(lead.id, view.state.balance, -input.points, `an adjustment of ${input.points}`);
      }
      // Added points lapse with the purchase's; added to a purchase whose points already lapsed,
      // they last a full expiry from now (otherwise they would lapse the moment they are added).
      const alive = Date.parse(purchase.expiresAt) > view.now.getTime();
      const entry: AdjustmentEntry = {
        entryId,
        kind: "adjustment",
        adjustmentId: input.adjustmentId,
        purchaseId,
        reason: input.reason,
        points: input.points,
        at,
        recordedAt: at,
        ...(input.points > 0
          ? alive
            ? { lot: purchase.entryId, expiresAt: purchase.expiresAt }
            : { expiresAt: addDuration(view.now, rewards.expiry).toISOString() }
          : { lot: purchase.entryId }),
      };
      return { entry, counts: input.points > 0 ? { pointsEarned: input.points } : { pointsReversed: -input.points } };
    },
  });
  return { purchaseId, ...outcome.result, created: outcome.created, ...(outcome.tierChanged ? { tierChanged: outcome.tierChanged } : {}) };
}
